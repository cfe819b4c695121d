import type { ResolvedEmailSettings } from "./resolve.ts";
import {
  type EmailSettings,
  PASSWORD_MASK,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
} from "./schema.ts";
import type { SettingSource } from "./sources.ts";

export type RedactedSetting<K extends SettingName = SettingName> = {
  value: K extends "SMTPPassword" ? string : EmailSettings[K];
  source: SettingSource;
};
export type RedactedEmailSettings = { [K in SettingName]: RedactedSetting<K> };

/**
 * The effective settings with each value's source, safe to log or return: a set password is
 * the reference's 32-asterisk mask, an empty one stays empty (so "no password" is visible).
 */
export function redactSettings({ values, sources }: ResolvedEmailSettings): RedactedEmailSettings {
  return Object.fromEntries(
    SETTING_NAMES.map((name) => {
      const value = SECRET_SETTINGS.has(name) && values[name] !== "" ? PASSWORD_MASK : values[name];
      return [name, { value, source: sources[name] }];
    }),
  ) as RedactedEmailSettings;
}
