/** The security-alert check's own configuration, from the environment and the settings store. */
import * as z from "zod/mini";
import { RECIPIENTS_PARAMETER } from "../settings/parameters.ts";
import "../zod.ts"; // English messages

export class SecurityAlertConfigError extends Error {
  override readonly name = "SecurityAlertConfigError";
}

const address = z.email();

export interface SecurityAlertConfig {
  feedUrl: string;
  appVersion: string;
  recipients: string[];
  /** Where the recipients came from, for logs: the variable or the parameter. */
  recipientsSource: string;
}

/**
 * SECURITY_FEED_URL and APP_VERSION from the environment; recipients from
 * SECURITY_ALERT_RECIPIENTS, else `<root>/SecurityAlerts/Recipients` (comma-separated).
 */
export function securityAlertConfig(
  env: Readonly<Record<string, string | undefined>>,
  storedParameters: Readonly<Record<string, string>>,
): SecurityAlertConfig {
  const problems: string[] = [];
  const feedUrl = env.SECURITY_FEED_URL ?? "";
  if (!/^https?:\/\/[^\s]+$/.test(feedUrl)) problems.push("SECURITY_FEED_URL must be an http(s) URL");
  const appVersion = env.APP_VERSION ?? "";
  if (appVersion === "")
    problems.push("APP_VERSION must be set to the running server's version, e.g. 10.5.1");
  const fromEnv = env.SECURITY_ALERT_RECIPIENTS;
  const raw = fromEnv ?? storedParameters[RECIPIENTS_PARAMETER] ?? "";
  const recipientsSource =
    fromEnv !== undefined ? "SECURITY_ALERT_RECIPIENTS" : `${RECIPIENTS_PARAMETER} parameter`;
  const recipients = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (recipients.length === 0) {
    problems.push(`no recipients: set the ${RECIPIENTS_PARAMETER} parameter or SECURITY_ALERT_RECIPIENTS`);
  }
  const bad = recipients.filter((r) => !address.safeParse(r).success);
  if (bad.length) {
    problems.push(
      `${recipientsSource} holds ${bad.length === 1 ? "an entry that is not an email address" : `${bad.length} entries that are not email addresses`}: ${bad.join(", ")}`,
    );
  }
  if (problems.length)
    throw new SecurityAlertConfigError(`Security alert configuration: ${problems.join("; ")}`);
  return { feedUrl, appVersion, recipients, recipientsSource };
}
