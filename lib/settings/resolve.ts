/**
 * Merges layers of raw values (defaults < SSM or file < environment < request), validates the
 * winners against the schema and remembers where each value came from.
 */
import { scrub } from "../scrub.ts";
import { InvalidSettingsError, type SettingIssue } from "./errors.ts";
import {
  defaultEnableSmtpAuth,
  type EmailSettings,
  EmailSettingsSchema,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
} from "./schema.ts";
import { DEFAULT_SOURCE, type SettingSource } from "./sources.ts";

/** One value a layer holds for a setting, as the layer holds it (a string, or a JSON value). */
export interface RawSetting {
  setting: SettingName;
  value: unknown;
  source: SettingSource;
}

/** Everything one layer says. A setting may appear twice (a section alias, a name in two cases). */
export type SettingsLayer = readonly RawSetting[];

export interface ResolvedEmailSettings {
  values: EmailSettings;
  sources: Record<SettingName, SettingSource>;
}

/**
 * A value as an issue quotes it: never a secret setting's, and no other's holding a secret any
 * layer holds (a password pasted into the wrong variable is still the password).
 */
function echo(setting: SettingName, value: unknown, secrets: readonly string[]): string | undefined {
  if (SECRET_SETTINGS.has(setting)) return undefined;
  return scrub(typeof value === "string" ? value : JSON.stringify(value), secrets);
}

/** Every secret setting's value in any layer. */
function secretsIn(layers: readonly SettingsLayer[]): string[] {
  return layers.flatMap((layer) =>
    layer.flatMap((r) =>
      SECRET_SETTINGS.has(r.setting) && typeof r.value === "string" && r.value !== "" ? [r.value] : [],
    ),
  );
}

/** Later layers win. Within one layer, two spellings of a setting must agree. */
export function resolveEmailSettings(layers: readonly SettingsLayer[]): ResolvedEmailSettings {
  const raw: Partial<Record<SettingName, unknown>> = {};
  const sources = Object.fromEntries(SETTING_NAMES.map((n) => [n, DEFAULT_SOURCE])) as Record<
    SettingName,
    SettingSource
  >;
  const issues: SettingIssue[] = [];

  for (const setting of SETTING_NAMES) {
    for (let i = layers.length - 1; i >= 0; i--) {
      const found = (layers[i] ?? []).filter((r) => r.setting === setting);
      const [first, ...rest] = found;
      if (!first) continue;
      const disagreeing = rest.find((r) => r.value !== first.value);
      if (disagreeing) {
        issues.push({
          setting,
          source: first.source,
          rule: `disagrees with ${disagreeing.source.layer === "default" ? "the default" : disagreeing.source.name}: set it in one place only`,
        });
      }
      raw[setting] = first.value;
      sources[setting] = first.source;
      break;
    }
  }

  const parsed = EmailSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const secrets = secretsIn(layers);
    for (const zodIssue of parsed.error.issues) {
      const setting = zodIssue.path[0] as SettingName;
      issues.push({
        setting,
        source: sources[setting],
        rule: zodIssue.message,
        value: echo(setting, raw[setting], secrets),
      });
    }
  }
  if (issues.length > 0 || !parsed.success) throw new InvalidSettingsError(issues);

  const { EnableSMTPAuth, ...rest } = parsed.data;
  return {
    values: { ...rest, EnableSMTPAuth: EnableSMTPAuth ?? defaultEnableSmtpAuth(rest.ConnectionSecurity) },
    sources,
  };
}
