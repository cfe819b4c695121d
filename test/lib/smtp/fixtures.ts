import { expect } from "vitest";
import { type EmailSettings, resolveEmailSettings, type SettingName } from "../../../lib/settings/index.ts";
import { createMailer, SmtpStageError } from "../../../lib/smtp/index.ts";

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

/** Sends one message through a fresh mailer and returns the error it failed with. */
export async function sendExpectingFailure(
  s: Parameters<typeof createMailer>[0],
  opts: Parameters<typeof createMailer>[1] = {},
): Promise<SmtpStageError> {
  const mailer = createMailer(s, opts);
  try {
    await mailer.send(message);
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpStageError);
    return error as SmtpStageError;
  } finally {
    await mailer.close();
  }
  throw new Error("expected the send to fail");
}

/** Neither the password nor its base64 form anywhere in what the error shows. */
export function expectNoSecret(error: SmtpStageError) {
  const everything = JSON.stringify({ ...error.toJSON(), response: error.response, message: error.message });
  expect(everything).not.toContain(PASSWORD);
  expect(everything).not.toContain(Buffer.from(PASSWORD).toString("base64"));
}
