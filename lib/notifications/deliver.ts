/**
 * Delivers one SQS batch of notifications and says which records failed, so SQS retries only
 * those (partial batch response): a record that was sent is never sent again because a sibling
 * failed.
 *
 * Under a provider's limits (docs/delivery.md): sends start no faster than the container's pace;
 * a throttle reply stops the batch from starting more, slows the pace, and every record not sent
 * comes back after its own back-off (ChangeMessageVisibility) instead of the queue's fixed
 * visibility timeout. A record that can never succeed (an invalid body, a refused recipient or
 * message) goes to the dead-letter queue at once with its reason, and is acknowledged.
 */
import type { Logger } from "../logger.ts";
import type { EmailSettings } from "../settings/index.ts";
import { type Mailer, type MailerOptions, NotStartedError, type SmtpStage } from "../smtp/index.ts";
import { quotaDelaySeconds, retryDelaySeconds } from "./backoff.ts";
import { outcomeOf } from "./outcome.ts";
import type { ParsedNotification } from "./parse.ts";
import type { QueueControl, RetryLater } from "./queue-control.ts";
import type { SendRate } from "./send-rate.ts";
import { recipientKey, serverOf } from "./trace.ts";

export interface NotificationRecord {
  /** The SQS message id. */
  id: string;
  /** This receive's receipt handle (for a visibility change). */
  receiptHandle: string;
  /** The body as received (what a dead-lettered record keeps). */
  body: string;
  /** How many times SQS has delivered it (ApproximateReceiveCount). */
  receiveCount: number;
  parsed: ParsedNotification;
}

export interface DeliveryReport {
  /** Ids of the records SQS must retry. */
  failed: string[];
  counts: {
    sent: number;
    skipped: number;
    invalid: number;
    transient: number;
    permanent: number;
    throttled: number;
    /** Refused by a spent daily quota: back in half an hour. */
    quota: number;
    deadLettered: number;
  };
}

/** A Message-ID that is the same on every delivery of one SQS message, so a duplicate is recognisable. */
export function messageIdFor(sqsMessageId: string, settings: EmailSettings): string {
  const domain = settings.FeedbackEmail.split("@")[1] ?? "localhost";
  return `<${sqsMessageId.replace(/[^A-Za-z0-9._-]/g, "-")}@${domain}>`;
}

/** A throttle at these stages refused the session, not a message: the rate was not the cause. */
const SESSION_STAGES = new Set<SmtpStage>(["connect", "tls", "greeting", "starttls", "auth"]);

/** What the batch adds to the mailer: the container's pace. */
export type BatchMailerHooks = Pick<MailerOptions, "pace" | "beforeOpen">;

export interface DeliverOptions {
  settings: EmailSettings;
  logger: Logger;
  /** Called only when something is to be sent, with the batch's hooks; closed before this returns. */
  openMailer: (hooks: BatchMailerHooks) => Mailer;
  /** Back-offs and the dead-letter queue. Without it, every unsent record is left to SQS's retries. */
  queue?: QueueControl;
  /** The container's pace, kept across batches. Without it, sends start as fast as the pool allows. */
  rate?: SendRate;
  /** For the back-off's jitter. Default Math.random. */
  random?: () => number;
}

export async function deliverNotifications(
  records: readonly NotificationRecord[],
  { settings, logger, openMailer, queue, rate, random = Math.random }: DeliverOptions,
): Promise<DeliveryReport> {
  const counts = {
    sent: 0,
    skipped: 0,
    invalid: 0,
    transient: 0,
    permanent: 0,
    throttled: 0,
    quota: 0,
    deadLettered: 0,
  };
  const failed: string[] = [];
  const later: RetryLater[] = [];

  // Every line about a record names where it goes and to whom (as a key): lib/notifications/trace.ts.
  const server = serverOf(settings);

  /** To the dead-letter queue now; if even that fails, SQS's receive limit gets it there. */
  const deadLetter = async (
    record: NotificationRecord,
    code: string,
    reason: string,
    fields: Record<string, unknown> = {},
  ) => {
    const about = {
      record: record.id,
      receiveCount: record.receiveCount,
      ...(record.parsed.ok ? { server, recipient: recipientKey(record.parsed.notification.to) } : {}),
      code,
      reason,
      ...fields,
    };
    if (!queue) {
      logger.error(
        "Notification failed permanently: it ends in the dead-letter queue after its retries",
        about,
      );
      failed.push(record.id);
      return;
    }
    try {
      const { id, body, receiveCount } = record;
      await queue.deadLetter({ id, body, receiveCount, code, reason });
      counts.deadLettered++;
      logger.error(
        "Notification failed permanently: moved to the dead-letter queue now, with its reason",
        about,
      );
    } catch (error) {
      logger.error("Could not move a notification to the dead-letter queue; SQS will retry it", {
        ...about,
        error,
      });
      failed.push(record.id);
    }
  };

  const sendable: Array<NotificationRecord & { parsed: { ok: true } }> = [];
  for (const record of records) {
    if (!record.parsed.ok) {
      counts.invalid++;
      const { issues } = record.parsed;
      await deadLetter(record, "InvalidNotification", `Invalid notification: ${issues.join("; ")}`, {
        issues,
      });
    } else if (!settings.SendEmailNotifications) {
      counts.skipped++;
      logger.info("Notification skipped: SendEmailNotifications is false", { record: record.id });
    } else {
      sendable.push(record as NotificationRecord & { parsed: { ok: true } });
    }
  }
  if (sendable.length === 0) return { failed, counts };

  let slowedDown = false;
  const m = openMailer(
    rate ? { pace: () => rate.take(), beforeOpen: async () => await rate.beforeOpen?.() } : {},
  );
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
          rate?.succeeded();
          logger.info("Notification sent", {
            record: record.id,
            receiveCount: record.receiveCount,
            server,
            recipient: recipientKey(notification.to),
            messageId: result.messageId,
            response: result.response,
            ...(result.rejected.length ? { rejectedRecipients: result.rejected.length } : {}),
          });
        } catch (error) {
          const outcome = outcomeOf(error);
          if (outcome.kind === "dead") {
            counts.permanent++;
            await deadLetter(record, outcome.code, outcome.reason, { error });
            return;
          }
          failed.push(record.id);
          if (outcome.kind === "quota") counts.quota++;
          if (outcome.kind === "throttled") {
            counts.throttled++;
            if (!slowedDown) {
              slowedDown = true; // once a batch: the pool's other refusals are the same throttle
              await rate?.throttled(SESSION_STAGES.has(outcome.error.stage) ? "connection" : "rate");
            }
          } else if (outcome.kind === "retry") counts.transient++;
          const backOff = outcome.kind !== "retry" || outcome.backOff;
          const delaySeconds =
            outcome.kind === "quota"
              ? quotaDelaySeconds(random)
              : backOff
                ? retryDelaySeconds(record.receiveCount, random)
                : 0;
          later.push({ id: record.id, receiptHandle: record.receiptHandle, delaySeconds });
          const notStarted = error instanceof NotStartedError;
          const message =
            outcome.kind === "quota"
              ? "Notification refused by a spent daily quota: SQS will deliver it again once the quota can have freed"
              : outcome.kind === "throttled"
                ? "Notification throttled by the provider: SQS will deliver it again after its back-off"
                : notStarted
                  ? "Notification not attempted: SQS will deliver it again"
                  : "Notification failed transiently: SQS will retry it";
          logger.warn(message, {
            record: record.id,
            server,
            recipient: recipientKey(notification.to),
            receiveCount: record.receiveCount,
            ...(queue ? { retryInSeconds: delaySeconds } : {}),
            ...(notStarted ? { reason: error.message } : { error }),
          });
        }
      }),
    );
  } finally {
    await m.close();
  }
  if (queue && later.length > 0) {
    const { failed: unchanged } = await queue
      .retryLater(later)
      .catch(() => ({ failed: later.map((l) => l.id) }));
    if (unchanged.length > 0) {
      logger.warn(
        "Could not set the back-off of some records: they come back after the queue's visibility timeout",
        {
          records: unchanged,
        },
      );
    }
  }
  return { failed, counts };
}
