/**
 * `settings import FILE` and `settings export`: a chat server's config.json (its EmailSettings,
 * and ServiceSettings.EnableSecurityFixAlert) into SSM, only what changes, after the product's
 * own check (with --local, into the local run's settings file), and the product's own
 * EmailTransportSettings beside them; and the stored settings back in config.json's shape,
 * without the secrets.
 */
import { writeFile } from "node:fs/promises";
import {
  describeIgnored,
  fileSettingsStore,
  InvalidSettingsError,
  PASSWORD_MASK,
  parameterNameFor,
  resolveEmailSettings,
  SETTING_NAMES,
  type SettingName,
  type SettingSource,
  SettingsLoadError,
} from "../../lib/settings/index.ts";
import { sectionsOf } from "../../lib/settings/schema.ts";
import type { CliContext } from "../context.ts";
import { confirmCredentialMove, withChanges } from "../credential-move.ts";
import { effectiveValues, loadDeployedSettings } from "../deployed-settings.ts";
import { localError } from "../local.ts";
import { CliError, EXIT, printJson, shownValue, table, usageError } from "../output.ts";
import { confirm } from "../prompt.ts";
import { refuseStackOwned } from "../stack-owned.ts";
import { isSecret } from "./settings.ts";
import { type ConfigEntry, importLocal, TEXT_IN_CONFIG_JSON } from "./settings-local.ts";
import { warnOverridden, warnTimeoutBeyondDeployment, warnUnread, writeSetting } from "./settings-write.ts";

interface Change {
  setting: SettingName;
  parameter: string;
  stored: string | undefined;
  /** "" deletes the parameter (SSM cannot hold ""). */
  next: string;
}

const asStored = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));
const shownFor = (setting: SettingName, value: string | undefined) =>
  value === undefined || value === "" ? "(unset)" : isSecret(setting) ? PASSWORD_MASK : shownValue(value);

export async function settingsImport(
  ctx: CliContext,
  file: string,
  { dryRun = false, keyId, verbose = false }: { dryRun?: boolean; keyId?: string; verbose?: boolean } = {},
): Promise<number> {
  let read: Awaited<ReturnType<ReturnType<typeof fileSettingsStore>["read"]>>;
  try {
    read = await fileSettingsStore({ path: file, optional: false }).read();
  } catch (error) {
    // A file that cannot be read as a config.json is a bad file, as one with bad values is (exit 1).
    if (error instanceof SettingsLoadError)
      throw new CliError(EXIT.failed, `${error.message}. Nothing was written.`);
    throw error;
  }
  for (const w of read.warnings) ctx.stderr.write(`warning: ${w}\n`);
  const ignored = read.ignored ?? [];
  if (ignored.length > 0) {
    ctx.stderr.write(
      `warning: ${describeIgnored(file, ignored)}${verbose || ignored.length <= 3 ? "" : "; --verbose lists them"}\n`,
    );
  }
  if (verbose) for (const key of ignored) ctx.stderr.write(`  ignored: ${key}\n`);
  if (read.layer.length === 0) throw usageError(`${file} holds no EmailSettings this product knows`);
  // The product's own check of the file's values, every broken rule at once.
  try {
    resolveEmailSettings([read.layer]);
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    ctx.stderr.write(`mm-email: ${error.message}\nNothing was written.\n`);
    return EXIT.failed;
  }
  const entries: ConfigEntry[] = [];
  for (const r of read.layer) {
    // The file store names each value `<file> <Section>.<Setting>`: the parameter mirrors that path.
    const section =
      r.source.layer === "file"
        ? (r.source.name.slice(r.source.name.lastIndexOf(" ") + 1).split(".")[0] ?? "")
        : "";
    if (!sectionsOf(r.setting).includes(section)) continue;
    if (isSecret(r.setting) && r.value === PASSWORD_MASK) continue; // a console's mask, not a secret
    entries.push({ setting: r.setting, section, value: r.value });
  }
  if (ctx.local) return importLocal(ctx, file, entries, dryRun);
  const deployed = await loadDeployedSettings(ctx);
  const storedBy = new Map(deployed.parameters.map((p) => [p.name, p.value]));
  const changes: Change[] = [];
  for (const r of entries) {
    const parameter = parameterNameFor(deployed.root, r.setting, r.section);
    const next = asStored(r.value);
    const stored = storedBy.get(parameter);
    if ((stored ?? "") !== next) changes.push({ setting: r.setting, parameter, stored, next });
  }
  if (changes.length === 0) {
    ctx.stdout.write(
      `Nothing to change: SSM under ${deployed.root || "/"} already holds ${file}'s settings.\n`,
    );
    return EXIT.ok;
  }
  ctx.stdout.write(
    table([
      ["SETTING", "STORED", "", "NEW", "PARAMETER"],
      ...changes.map((c) => [
        c.setting,
        shownFor(c.setting, c.stored),
        "→",
        shownFor(c.setting, c.next),
        c.parameter,
      ]),
    ]),
  );
  // The stack's parameters change only by its context: refused before anything is written (or, with --dry-run, said).
  refuseStackOwned(
    deployed,
    changes.map((c) => c.parameter),
  );
  if (dryRun) {
    ctx.stdout.write(`${changes.length} change(s); --dry-run: nothing written.\n`);
    return EXIT.ok;
  }
  const before = effectiveValues(deployed);
  await confirmCredentialMove(
    ctx,
    before,
    withChanges(
      before,
      changes.map((c) => ({ setting: c.setting, value: c.next })),
    ),
  );
  if (!(await confirm(ctx, `Write ${changes.length} change(s) to SSM?`, ctx.options.yes))) {
    ctx.stderr.write("Nothing written.\n");
    return EXIT.usage;
  }
  for (const c of changes) await writeSetting(ctx, c.parameter, c.setting, c.next, keyId ? { keyId } : {});
  ctx.stdout.write(`${changes.length} change(s) written under ${deployed.root || "/"}.\n`);
  for (const setting of new Set(changes.map((c) => c.setting))) {
    warnOverridden(ctx, deployed, setting);
    warnUnread(ctx, deployed, setting);
  }
  for (const c of changes) warnTimeoutBeyondDeployment(ctx, deployed, c.setting, c.next);
  return EXIT.ok;
}

export async function settingsExport(ctx: CliContext, { output }: { output?: string } = {}): Promise<number> {
  const sections: Record<string, Record<string, unknown>> = { EmailSettings: {} };
  if (ctx.local) {
    // What the local run's settings file holds: the values whose source is the file, in the
    // section the file holds them in (its source names `<path> <Section>.<Setting>`).
    const answer = await ctx.local.get("/api/settings");
    const settings = (answer.body as { settings?: Record<string, { value: unknown; source: SettingSource }> })
      .settings;
    if (answer.status !== 200 || !settings) throw localError(answer, `GET ${ctx.local.url}/api/settings`);
    for (const setting of SETTING_NAMES) {
      const entry = settings[setting];
      if (isSecret(setting) || entry?.source.layer !== "file") continue;
      const section = /\s(\w+)\.\w+$/.exec(entry.source.name)?.[1] ?? "EmailSettings";
      sections[section] ??= {};
      (sections[section] as Record<string, unknown>)[setting] = TEXT_IN_CONFIG_JSON.has(setting)
        ? String(entry.value)
        : entry.value;
    }
    return writeExport(ctx, sections, output);
  }
  const deployed = await loadDeployedSettings(ctx);
  for (const setting of SETTING_NAMES) {
    if (isSecret(setting)) continue;
    for (const r of deployed.storedLayer.filter((x) => x.setting === setting)) {
      const name = (r.source as { name: string }).name;
      const section =
        sectionsOf(setting).find((s) => name === parameterNameFor(deployed.root, setting, s)) ??
        "EmailSettings";
      let value: unknown = r.value;
      try {
        const typed = resolveEmailSettings([[r]]).values[setting];
        if (typeof typed !== "string" && !TEXT_IN_CONFIG_JSON.has(setting)) value = typed;
      } catch {
        ctx.stderr.write(`warning: ${name} holds an invalid value; exported as stored\n`);
      }
      sections[section] ??= {};
      (sections[section] as Record<string, unknown>)[setting] = value;
    }
  }
  return writeExport(ctx, sections, output);
}

/** The export on stdout, or in a file. */
async function writeExport(
  ctx: CliContext,
  sections: Record<string, Record<string, unknown>>,
  output: string | undefined,
): Promise<number> {
  if (output) {
    await writeFile(output, `${JSON.stringify(sections, null, 2)}\n`).catch((error: Error) => {
      throw new CliError(EXIT.usage, `Could not write ${output}: ${error.message}`);
    });
    ctx.stderr.write(`Wrote ${output} (without the secrets: SMTPPassword and the OAuth2 credentials).\n`);
  } else printJson(ctx, sections);
  return EXIT.ok;
}
