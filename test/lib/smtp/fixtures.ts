import { type EmailSettings, resolveEmailSettings, type SettingName } from "../../../lib/settings/index.ts";

export const PASSWORD = "sm7p-Pässword-1f0c9e";

/**
 * Settings as the settings layer resolves them (so EnableSMTPAuth follows ConnectionSecurity
 * unless given), on 127.0.0.1 with a 2 s timeout unless overridden.
 */
export function settings(overrides: Partial<EmailSettings>): EmailSettings {
  const given: Partial<EmailSettings> = { SMTPServer: "127.0.0.1", SMTPServerTimeout: 2, ...overrides };
  return resolveEmailSettings([
    Object.entries(given).map(([setting, value]) => ({
      setting: setting as SettingName,
      value,
      source: { layer: "request" as const, name: setting },
    })),
  ]).values;
}

export const message = {
  to: "user@example.com",
  subject: "Hello",
  text: "Plain body",
};
