/**
 * The SSM Parameter Store layer: one parameter per setting under a root path, mirroring the
 * config.json path (`.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`).
 */
import { SETTING_NAMES, type SettingName, sectionsOf } from "./schema.ts";
import type { StoredParameter } from "./ssm-read.ts";
import type { StoredSettings } from "./store.ts";

export {
  DEFAULT_SETTINGS_PATH,
  EXTRA_PARAMETERS,
  readStoredParameters,
  type StoredParameter,
  settingsRootPath,
} from "./ssm-read.ts";

export const parameterNameFor = (root: string, setting: SettingName, section = "EmailSettings"): string =>
  `${root}/${section}/${setting}`;

/**
 * Picks the settings out of a parameter tree. Other plain parameters under the root are kept by
 * their name relative to it (`SecurityAlerts/Recipients`) for the capabilities that need them;
 * other SecureStrings are dropped.
 */
export function ssmLayer(parameters: readonly StoredParameter[], root: string): StoredSettings {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const layer = [];
  const warnings: string[] = [];
  for (const setting of SETTING_NAMES) {
    for (const section of sectionsOf(setting)) {
      const name = parameterNameFor(root, setting, section);
      const p = byName.get(name);
      if (!p) continue;
      layer.push({ setting, value: p.value, source: { layer: "ssm" as const, name } });
      if (setting === "SMTPPassword" && p.type !== "SecureString") {
        warnings.push(`${name} is a ${p.type} parameter: store the password as a SecureString`);
      }
    }
  }
  const settingNames = new Set(layer.map((r) => r.source.name));
  const others: Record<string, string> = {};
  for (const p of parameters) {
    const isOther = !settingNames.has(p.name) && !p.name.startsWith(`${root}/EmailSettings/`);
    if (isOther && p.type !== "SecureString" && p.name.startsWith(`${root}/`)) {
      others[p.name.slice(root.length + 1)] = p.value;
    }
  }
  return { layer, warnings, others };
}
