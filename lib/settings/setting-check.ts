/**
 * The product's check of one stored setting among the others, shared by `mm-email settings set`
 * (SSM) and the local run's settings routes (its file), so both refuse a value with the very
 * message the functions would fail with. A setting with an invalid value does not hide the
 * others' (resolveLeniently).
 */
import { InvalidSettingsError, type SettingIssue } from "./errors.ts";
import { type ResolvedEmailSettings, resolveEmailSettings, type SettingsLayer } from "./resolve.ts";
import type { SettingName } from "./schema.ts";
import type { SettingSource } from "./sources.ts";

/** Resolves the layers; settings with invalid values fall back so the rest still resolve. */
export function resolveLeniently(layers: readonly SettingsLayer[]): {
  resolved: ResolvedEmailSettings;
  issues: readonly SettingIssue[];
} {
  try {
    return { resolved: resolveEmailSettings(layers), issues: [] };
  } catch (error) {
    if (!(error instanceof InvalidSettingsError)) throw error;
    const broken = new Set(error.issues.map((i) => i.setting));
    const rest = layers.map((layer) => layer.filter((r) => !broken.has(r.setting)));
    return { resolved: resolveEmailSettings(rest), issues: error.issues };
  }
}

/**
 * `value` (undefined: removed) as the stored value of `setting` from `source`, among the other
 * stored values: the product's InvalidSettingsError message for this setting, or undefined when valid.
 */
export function checkStoredSetting(
  stored: SettingsLayer,
  setting: SettingName,
  value: unknown,
  source: SettingSource,
): string | undefined {
  const others = stored.filter((r) => r.setting !== setting);
  const mine = value === undefined ? [] : [{ setting, value, source }];
  const { issues } = resolveLeniently([[...others, ...mine]]);
  const own = issues.filter((i) => i.setting === setting);
  return own.length ? new InvalidSettingsError(own).message : undefined;
}
