/**
 * What send-notification's log lines say about one notification, so an operator can answer "was
 * it sent, when, to which server, with what reply?" from the logs alone (`mm-email trace`). Each
 * line about a record names the record (the SQS message id, which the Message-ID also carries),
 * the server it went to and the recipient as a key: a short SHA-256 of the address, so the logs
 * find a recipient's mail without holding the address itself.
 */

import { createHash } from "node:crypto";
import { parseJsonObject } from "../json.ts";
import type { EmailSettings } from "../settings/index.ts";

/** The recipient as the logs carry it. */
export function recipientKey(address: string): string {
  return `rcpt-${createHash("sha256").update(address.trim().toLowerCase()).digest("hex").slice(0, 16)}`;
}

/** Where the settings send: `host:port` for SMTP, `ses` for Amazon SES's API. */
export function serverOf(settings: Pick<EmailSettings, "Transport" | "SMTPServer" | "SMTPPort">): string {
  return settings.Transport === "ses" ? "ses" : `${settings.SMTPServer}:${settings.SMTPPort}`;
}

/** One log line about a notification, as `mm-email trace` reads it back. */
export interface TraceLine {
  at: string;
  record: string;
  /** What happened: sent, retry, settings-refused, throttled, quota, not-attempted, dead-lettered, skipped. */
  event: string;
  server?: string;
  /** The server's reply (sent), or the error (every other event). */
  reply?: string;
  receiveCount?: number;
  messageId?: string;
}

/**
 * The field of a line about a refusal that the settings caused (relay, sender, sign-in, policy),
 * with the value "settings": the stack's SettingsRefusedAlarm counts these lines (infra/constructs/alarms.ts).
 */
export const SETTINGS_REFUSAL_FIELD = "refusedBy";

const EVENTS: ReadonlyArray<[RegExp, string]> = [
  [/^Notification sent$/, "sent"],
  [/^Notification throttled/, "throttled"],
  [/^Notification refused by a spent daily quota/, "quota"],
  [/^Notification not attempted/, "not-attempted"],
  [/^Notification failed transiently/, "retry"],
  [/^Notification refused because of the settings/, "settings-refused"],
  [/^Notification failed permanently/, "dead-lettered"],
  [/^Could not move a notification to the dead-letter queue/, "retry"],
  [/^Notification skipped/, "skipped"],
];

/** A log line (JSON, as the functions write it) about one notification, or undefined. */
export function parseTraceLine(text: string, timestamp: number): TraceLine | undefined {
  const line = parseJsonObject(text);
  if (!line) return undefined;
  if (typeof line.record !== "string" || typeof line.message !== "string") return undefined;
  const event = EVENTS.find(([pattern]) => pattern.test(line.message as string))?.[1];
  if (!event) return undefined;
  const error = line.error as { message?: unknown } | undefined;
  const reply =
    typeof line.response === "string"
      ? line.response
      : typeof error?.message === "string"
        ? error.message
        : typeof line.reason === "string"
          ? line.reason
          : undefined;
  return {
    at: new Date(typeof line.timestamp === "string" ? line.timestamp : timestamp).toISOString(),
    record: line.record,
    event,
    ...(typeof line.server === "string" ? { server: line.server } : {}),
    ...(reply ? { reply } : {}),
    ...(typeof line.receiveCount === "number" ? { receiveCount: line.receiveCount } : {}),
    ...(typeof line.messageId === "string" ? { messageId: line.messageId } : {}),
  };
}
