/**
 * Delivers one SQS batch of notifications and says which records failed, so SQS retries only
 * those (partial batch response): a record that was sent is never sent again because a sibling
 * failed, and a record that keeps failing ends in the dead-letter queue.
 */
import type { Logger } from "../logger.ts";
import type { EmailSettings } from "../settings/index.ts";
import { type Mailer, NotStartedError, SmtpStageError } from "../smtp/index.ts";
import type { ParsedNotification } from "./parse.ts";

export interface NotificationRecord {
  /** The SQS message id. */
  id: string;
  /** How many times SQS has delivered it (ApproximateReceiveCount). */
  receiveCount: number;
  parsed: ParsedNotification;
}

export interface DeliveryReport {
  /** Ids of the records SQS must retry. */
  failed: string[];
  counts: { sent: number; skipped: number; invalid: number; transient: number; permanent: number };
}

/** A Message-ID that is the same on every delivery of one SQS message, so a duplicate is recognisable. */
export function messageIdFor(sqsMessageId: string, settings: EmailSettings): string {
  const domain = settings.FeedbackEmail.split("@")[1] ?? "localhost";
  return `<${sqsMessageId.replace(/[^A-Za-z0-9._-]/g, "-")}@${domain}>`;
}

export interface DeliverOptions {
  settings: EmailSettings;
  logger: Logger;
  /** Called only when something is to be sent; the mailer is closed before this returns. */
  openMailer: () => Mailer;
}

export async function deliverNotifications(
  records: readonly NotificationRecord[],
  { settings, logger, openMailer }: DeliverOptions,
): Promise<DeliveryReport> {
  const counts = { sent: 0, skipped: 0, invalid: 0, transient: 0, permanent: 0 };
  const failed: string[] = [];

  const sendable: Array<NotificationRecord & { parsed: { ok: true } }> = [];
  for (const record of records) {
    if (!record.parsed.ok) {
      counts.invalid++;
      failed.push(record.id);
      logger.error("Invalid notification: it will not be sent and ends in the dead-letter queue", {
        record: record.id,
        receiveCount: record.receiveCount,
        issues: record.parsed.issues,
      });
    } else if (!settings.SendEmailNotifications) {
      counts.skipped++;
      logger.info("Notification skipped: SendEmailNotifications is false", { record: record.id });
    } else {
      sendable.push(record as NotificationRecord & { parsed: { ok: true } });
    }
  }
  if (sendable.length === 0) return { failed, counts };

  const m = openMailer();
  try {
    await Promise.all(
      sendable.map(async (record) => {
        const { notification } = record.parsed;
        try {
          const result = await m.send({
            ...notification,
            messageId: notification.messageId ?? messageIdFor(record.id, settings),
          });
          counts.sent++;
          logger.info("Notification sent", {
            record: record.id,
            messageId: result.messageId,
            response: result.response,
            ...(result.rejected.length ? { rejectedRecipients: result.rejected.length } : {}),
          });
        } catch (error) {
          failed.push(record.id);
          if (error instanceof NotStartedError) {
            counts.transient++;
            logger.warn("Notification not attempted: SQS will deliver it again", {
              record: record.id,
              reason: error.message,
            });
          } else if (error instanceof SmtpStageError) {
            counts[error.transient ? "transient" : "permanent"]++;
            logger[error.transient ? "warn" : "error"](
              error.transient
                ? "Notification failed transiently: SQS will retry it"
                : "Notification failed permanently: it ends in the dead-letter queue after its retries",
              { record: record.id, receiveCount: record.receiveCount, error },
            );
          } else {
            counts.permanent++;
            logger.error("Notification failed", {
              record: record.id,
              receiveCount: record.receiveCount,
              error,
            });
          }
        }
      }),
    );
  } finally {
    await m.close();
  }
  return { failed, counts };
}
