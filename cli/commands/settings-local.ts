/**
 * `settings set | unset | import` against the local run (--local): its settings file stands where
 * SSM stands, changed through its routes (PUT and DELETE /api/settings/NAME), which check a value
 * with the product's own check before writing and never echo the password.
 */
import { type EmailSettings, resolveEmailSettings, type SettingName } from "../../lib/settings/index.ts";
import type { CliContext } from "../context.ts";
import { confirmCredentialMove, withChanges } from "../credential-move.ts";
import { type LocalRun, localError } from "../local.ts";
import { EXIT, shownValue, table } from "../output.ts";
import { confirm } from "../prompt.ts";
import { isSecret } from "./settings.ts";

/** The reference server's config.json keeps SMTPPort as text; every other number and boolean is typed. */
export const TEXT_IN_CONFIG_JSON: ReadonlySet<SettingName> = new Set(["SMTPPort"]);

/** One value of a config.json to store, in its section. */
export interface ConfigEntry {
  setting: SettingName;
  section: string;
  value: unknown;
}

interface PutAnswer {
  file: string;
  location: string;
  stored: unknown;
  value: unknown;
  changed: boolean;
  warnings: string[];
}

const settingPath = (setting: SettingName) => `/api/settings/${encodeURIComponent(setting)}`;

function runOf(ctx: CliContext): LocalRun {
  if (!ctx.local) throw new Error("not local");
  return ctx.local;
}

function writeWarnings(ctx: CliContext, warnings: Iterable<string>) {
  for (const w of new Set(warnings)) ctx.stderr.write(`warning: ${w}\n`);
}

/**
 * A value typed on the command line as config.json holds it: a number or boolean typed when the
 * product reads the text as exactly that (587 stays text for SMTPPort), else the text itself.
 */
function asConfigValue(setting: SettingName, text: string): unknown {
  if (isSecret(setting) || TEXT_IN_CONFIG_JSON.has(setting)) return text;
  try {
    const typed = resolveEmailSettings([[{ setting, value: text, source: { layer: "default" } }]]).values[
      setting
    ];
    return typeof typed !== "string" && String(typed) === text ? typed : text;
  } catch {
    return text; // invalid: the local run refuses it with the product's message
  }
}

async function put(
  ctx: CliContext,
  setting: SettingName,
  body: { value: unknown; section?: string; dryRun?: boolean },
) {
  const answer = await runOf(ctx).put(settingPath(setting), body);
  if (answer.status !== 200) throw localError(answer, `settings set ${setting}`);
  return answer.body as PutAnswer;
}

export async function unsetLocal(ctx: CliContext, setting: SettingName): Promise<number> {
  // Only what the settings file holds is removed: ask first, as for a parameter.
  const view = await runOf(ctx).get("/api/settings");
  const held = (view.body as { settings?: Record<string, { source?: { layer?: string } }> }).settings?.[
    setting
  ];
  if (
    held?.source?.layer === "file" &&
    !(await confirm(ctx, `Remove ${setting} from the local run's settings file?`, ctx.options.yes))
  ) {
    ctx.stderr.write("Nothing removed.\n");
    return EXIT.usage;
  }
  const answer = await runOf(ctx).delete(settingPath(setting));
  if (answer.status !== 200) throw localError(answer, `settings unset ${setting}`);
  const { file, removed, warnings } = answer.body as { file: string; removed: string[]; warnings: string[] };
  ctx.stdout.write(
    removed.length
      ? `${setting}: removed ${removed.join(", ")} from ${file} (the layers under the file apply)\n`
      : `${setting}: not in ${file} (the layers under the file apply)\n`,
  );
  writeWarnings(ctx, warnings);
  return EXIT.ok;
}

/** The values the local run's functions use now (secrets masked: a stored one is the mask). */
async function localValues(ctx: CliContext): Promise<EmailSettings> {
  const answer = await runOf(ctx).get("/api/settings");
  const settings = (answer.body as { settings?: Record<string, { value: unknown }> }).settings;
  if (answer.status !== 200 || !settings) throw localError(answer, "GET /api/settings");
  return Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.value])) as EmailSettings;
}

/** Asks first when the change sends a stored credential somewhere new (credential-move.ts). */
async function confirmLocalChanges(
  ctx: CliContext,
  changes: ReadonlyArray<{ setting: SettingName; value: unknown }>,
) {
  const before = await localValues(ctx);
  await confirmCredentialMove(ctx, before, withChanges(before, changes));
}

/** `settings set` with --local; "" removes the setting from the file, as it deletes a parameter. */
export async function setLocal(ctx: CliContext, setting: SettingName, value: string): Promise<number> {
  if (value === "") return unsetLocal(ctx, setting);
  await confirmLocalChanges(ctx, [{ setting, value: asConfigValue(setting, value) }]);
  const a = await put(ctx, setting, { value: asConfigValue(setting, value) });
  const shown = isSecret(setting) ? `(the secret ${setting})` : JSON.stringify(a.value);
  ctx.stdout.write(
    a.changed
      ? `${setting}: wrote ${a.file} ${a.location} = ${shown}\n`
      : `${setting}: ${a.file} ${a.location} already holds ${shown}\n`,
  );
  writeWarnings(ctx, a.warnings);
  return EXIT.ok;
}

const shownFor = (value: unknown) => (value === null || value === undefined ? "(unset)" : shownValue(value));

/** `settings import` with --local: the diff against what the file holds, then only the changes. */
export async function importLocal(
  ctx: CliContext,
  file: string,
  entries: readonly ConfigEntry[],
  dryRun: boolean,
): Promise<number> {
  const changes: Array<ConfigEntry & { answer: PutAnswer }> = [];
  for (const e of entries) {
    const answer = await put(ctx, e.setting, { value: e.value, section: e.section, dryRun: true });
    if (answer.changed) changes.push({ ...e, answer });
  }
  const target = `the local run's settings file`;
  if (changes.length === 0) {
    ctx.stdout.write(`Nothing to change: ${target} already holds ${file}'s settings.\n`);
    return EXIT.ok;
  }
  ctx.stdout.write(
    table([
      ["SETTING", "STORED", "", "NEW", "FILE"],
      ...changes.map((c) => [
        c.setting,
        shownFor(c.answer.stored),
        "→",
        shownFor(c.answer.value),
        `${c.answer.file} ${c.answer.location}`,
      ]),
    ]),
  );
  if (dryRun) {
    ctx.stdout.write(`${changes.length} change(s); --dry-run: nothing written.\n`);
    return EXIT.ok;
  }
  await confirmLocalChanges(ctx, changes);
  if (!(await confirm(ctx, `Write ${changes.length} change(s) to ${target}?`, ctx.options.yes))) {
    ctx.stderr.write("Nothing written.\n");
    return EXIT.usage;
  }
  const warnings: string[] = [];
  for (const c of changes) {
    const a = await put(ctx, c.setting, { value: c.value, section: c.section });
    warnings.push(...a.warnings);
  }
  ctx.stdout.write(`${changes.length} change(s) written to ${changes[0]?.answer.file}.\n`);
  writeWarnings(ctx, warnings);
  return EXIT.ok;
}
