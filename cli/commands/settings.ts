import type { FunctionEnvName } from "../../functions/environment.ts";
import {
  describeSource,
  type EmailSettings,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
  type SettingSource,
  sendingRequirements,
} from "../../lib/settings/index.ts";
import { isSettingName } from "../../lib/settings/schema.ts";
import { defaultEhloName, ehloNameFor } from "../../lib/smtp/ehlo.ts";
import { settingsWarnings } from "../../lib/smtp/warnings.ts";
import type { CliContext } from "../context.ts";
import {
  type DeployedSettings,
  effectiveValues,
  loadDeployedSettings,
  type SettingRow,
  settingRows,
} from "../deployed-settings.ts";
import { localError } from "../local.ts";
import { CliError, EXIT, printJson, shownValue, table, usageError } from "../output.ts";

export const PASSWORD: SettingName = "SMTPPassword";

/** A secret: stored as a SecureString, taken from a prompt or stdin only, never shown. */
export const isSecret = (setting: SettingName): boolean => SECRET_SETTINGS.has(setting);

export function settingName(name: string): SettingName {
  if (isSettingName(name)) return name;
  const match = SETTING_NAMES.find((n) => n.toLowerCase() === name.toLowerCase());
  throw usageError(
    `Unknown setting ${JSON.stringify(name)}${match ? `: did you mean ${match}?` : ""} (the settings: ${SETTING_NAMES.join(", ")})`,
  );
}

interface SettingsView {
  rows: SettingRow[];
  warnings: string[];
  /** The name the functions give in EHLO (their site URL's host, else FeedbackEmail's domain). */
  ehloName?: string;
  /** Where they were read: the stack and settings root, or the local run. */
  where: Record<string, string>;
  /** The local run could not resolve them at all: its message. */
  error?: string;
}

interface LocalSetting {
  value: unknown;
  source: SettingSource;
  variable: string;
}

async function localView(ctx: CliContext): Promise<SettingsView> {
  const local = ctx.local;
  if (!local) throw new Error("not local");
  const answer = await local.get("/api/settings");
  const body = answer.body as {
    settings?: Record<string, LocalSetting>;
    store?: string;
    warnings?: string[];
    ehloName?: string;
    error?: string;
  };
  if (answer.status !== 200 || !body.settings) {
    if (answer.status === 500 && body.error)
      return { rows: [], warnings: [], where: { local: local.url }, error: body.error };
    throw localError(answer, `GET ${local.url}/api/settings`);
  }
  const settings = body.settings;
  const rows = SETTING_NAMES.map((setting): SettingRow => {
    const s = settings[setting] as LocalSetting;
    return {
      setting,
      value: s.value,
      source: s.source,
      sourceText: describeSource(s.source),
      variable: s.variable,
      valid: true,
    };
  });
  return {
    rows,
    warnings: body.warnings ?? [],
    ...(body.ehloName ? { ehloName: body.ehloName } : {}),
    where: { local: local.url, store: body.store ?? "" },
  };
}

async function view(ctx: CliContext): Promise<SettingsView & { deployed?: DeployedSettings }> {
  if (ctx.local) return localView(ctx);
  const deployed = await loadDeployedSettings(ctx);
  const { rows } = settingRows(deployed);
  const stack = await ctx.stack();
  const siteUrl = deployed.functionEnvironment["MM_SERVICESETTINGS_SITEURL" satisfies FunctionEnvName];
  return {
    rows,
    warnings: deployed.warnings,
    ehloName: ehloNameFor(effectiveValues(deployed), siteUrl),
    where: {
      stack: stack.name,
      settingsPath: deployed.root || "/",
      ...(deployed.functionName ? { function: deployed.functionName } : {}),
    },
    deployed,
  };
}

const rowJson = (r: SettingRow) => ({
  value: r.value,
  source: r.source,
  sourceText: r.sourceText,
  variable: r.variable,
  valid: r.valid,
  ...(r.error ? { error: r.error } : {}),
  ...(r.stackOwned ? { stackOwned: r.stackOwned } : {}),
});

function writeWarnings(ctx: CliContext, warnings: readonly string[]) {
  for (const w of warnings) ctx.stderr.write(`warning: ${w}\n`);
}

export async function settingsShow(
  ctx: CliContext,
  { json = false }: { json?: boolean } = {},
): Promise<number> {
  const v = await view(ctx);
  if (json) {
    printJson(ctx, {
      ...v.where,
      valid: !v.error && v.rows.every((r) => r.valid),
      ...(v.error ? { error: v.error } : {}),
      settings: Object.fromEntries(v.rows.map((r) => [r.setting, rowJson(r)])),
      warnings: v.warnings,
    });
    return EXIT.ok;
  }
  if (v.error) {
    ctx.stderr.write(`mm-email: ${v.error}\n`);
    return EXIT.failed;
  }
  ctx.stdout.write(
    `${Object.entries(v.where)
      .map(([k, val]) => `${k}: ${val}`)
      .join("  ")}\n\n`,
  );
  ctx.stdout.write(
    table([
      ["SETTING", "VALUE", "VALID", "SOURCE"],
      ...v.rows.map((r) => [r.setting, shownValue(r.value), r.valid ? "yes" : "NO", r.sourceText]),
    ]),
  );
  for (const r of v.rows.filter((r) => !r.valid)) ctx.stdout.write(`\n${r.error}`);
  if (v.rows.some((r) => !r.valid)) ctx.stdout.write("\n");
  writeWarnings(ctx, v.warnings);
  return EXIT.ok;
}

export async function settingsGet(
  ctx: CliContext,
  name: string,
  { json = false }: { json?: boolean } = {},
): Promise<number> {
  const setting = settingName(name);
  const v = await view(ctx);
  if (v.error) throw new CliError(EXIT.failed, v.error);
  const row = v.rows.find((r) => r.setting === setting) as SettingRow;
  if (json) printJson(ctx, { setting, ...rowJson(row) });
  else {
    // stdout is the bare value, for $(mm-email settings get …): an empty one is an empty line, which
    // stderr names, as show's "" does.
    ctx.stdout.write(`${typeof row.value === "string" ? row.value : JSON.stringify(row.value)}\n`);
    ctx.stderr.write(
      `${setting}: ${row.value === "" ? 'empty (""), ' : ""}${row.sourceText}${row.valid ? "" : ` (INVALID: ${row.error})`}\n`,
    );
  }
  return row.valid ? EXIT.ok : EXIT.failed;
}

export async function settingsValidate(
  ctx: CliContext,
  { json = false }: { json?: boolean } = {},
): Promise<number> {
  const v = await view(ctx);
  const fieldErrors = v.error ? [v.error] : v.rows.flatMap((r) => (r.error ? [r.error] : []));
  // The rules that join settings, as a function checks them before it connects, and the warnings
  // the connection test gives (secrets are masked here, but a missing one is "", as both need).
  const values = Object.fromEntries(v.rows.map((r) => [r.setting, r.value])) as EmailSettings;
  const joined =
    fieldErrors.length > 0 ? [] : sendingRequirements(values).map((r) => `${r.code}: ${r.message}`);
  const errors = [...fieldErrors, ...joined];
  const warnings = [
    ...v.warnings,
    ...(fieldErrors.length > 0 ? [] : settingsWarnings(values, v.ehloName ?? defaultEhloName(values))),
  ];
  if (json) printJson(ctx, { ...v.where, valid: errors.length === 0, errors, warnings });
  else {
    ctx.stdout.write(
      errors.length === 0
        ? "The settings are valid.\n"
        : `${errors.map((e) => `invalid: ${e}`).join("\n")}\n`,
    );
    writeWarnings(ctx, warnings);
  }
  return errors.length === 0 ? EXIT.ok : EXIT.failed;
}

/** The parameter a setting is written to: its EmailSettings name, or the other spelling when only that one exists. */
