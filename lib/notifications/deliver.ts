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
 *
 * A crash costs at most the messages in flight (in-flight.ts): each record is deleted as soon as
 * the server accepted it, and the others are held a minute at a time. Every queue call's time
 * comes from the invocation's time left, and the report is returned before the invocation's end
 * even when a send or a call is still running, so Lambda never fails the whole batch for a
 * timeout (a record still being sent then is reported failed: at least once, never lost).
 *
 * One file of about 400 lines: a batch's records share one state (the counts, which records are
 * done, which come back and when, the holds, the deadline's cut), and each step of a record's fate
 * reads and writes it; the parts that need none of it live beside it (outcome.ts, backoff.ts,
 * in-flight.ts, batch-time.ts, metrics.ts).
 */
import type { Logger } from "../logger.ts";
import type { EmailSettings } from "../settings/index.ts";
import { type Mailer, type MailerOptions, NotStartedError, type SmtpStage } from "../smtp/index.ts";
import { quotaDelaySeconds, retryDelaySeconds, throttleRetryWaitMs } from "./backoff.ts";
import { type InFlight, type InFlightOptions, trackInFlight } from "./in-flight.ts";
import { type Outcome, outcomeOf } from "./outcome.ts";
import type { ParsedNotification } from "./parse.ts";
import type { QueueControl, RetryLater } from "./queue-control.ts";
import type { SendRate } from "./send-rate.ts";
import { recipientKey, SETTINGS_REFUSAL_FIELD, serverOf } from "./trace.ts";

export interface NotificationRecord {
  /** The SQS message id. */
  id: string;
  /** This receive's receipt handle (for a visibility change). */
  receiptHandle: string;
  /** The body as received (what a dead-lettered record keeps). */
  body: string;
  /** How many times SQS has delivered it (ApproximateReceiveCount). */
  receiveCount: number;
  /** When it was sent to the queue (SentTimestamp), epoch ms: the event's time. */
  sentAtMs?: number;
  parsed: ParsedNotification;
}

export interface DeliveryReport {
  /** Ids of the records SQS must retry. */
  failed: string[];
  /** Milliseconds, one value a send or a session (lib/notifications/metrics.ts publishes them). */
  timings: {
    /** From the record's SentTimestamp to the server's acceptance. */
    eventToAcceptedMs: number[];
    /** Each accepted message's transaction (MAIL FROM to the final reply; SES's API call). */
    transactionMs: number[];
    /** Each new session's opening (connect, greeting, TLS, sign-in). */
    sessionSetupMs: number[];
  };
  counts: {
    sent: number;
    skipped: number;
    invalid: number;
    transient: number;
    permanent: number;
    throttled: number;
    /** Refused by a spent daily quota: back in half an hour. */
    quota: number;
    /** Refused because of the settings (relay, sender, sign-in, policy): back after a back-off; the operator must act. */
    settings: number;
    /** Refusals for the rate sent again in the batch at a slowed pace (throttleRetries). */
    retriedInBatch: number;
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

/** What the batch adds to the mailer: the container's pace, and a measure of each session's opening. */
export type BatchMailerHooks = Pick<MailerOptions, "pace" | "beforeOpen" | "onSessionOpened">;

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
  /**
   * The invocation's time left, in milliseconds (Lambda's getRemainingTimeInMillis). Queue calls
   * take their time from it, and the report is returned `REPORT_MARGIN_MS` before it runs out.
   * Default: no deadline.
   */
  timeLeftMs?: () => number;
  /**
   * No send starts with less time left than this (the mailer's mayStart): a throttle retry whose
   * wait would leave less is not made, and its message backs off at once. Default REPORT_MARGIN_MS.
   */
  sendReserveMs?: number;
  /** How long the batch's records are held at a time (in-flight.ts). Default VISIBILITY_HOLD. */
  hold?: InFlightOptions["hold"];
  /**
   * A message refused for the rate is sent again in the batch this many times, at the slowed
   * pace, before it comes back after a back-off: for a rate being learned (learned-rate.ts), where
   * a throttle is how the pace is found. Default 0: with a known rate a throttle is unexpected.
   */
  throttleRetries?: number;
}

/** Time kept back for returning the report once the batch's work is cut short. */
export const REPORT_MARGIN_MS = 500;

/** The longest one queue call may take when there is time: SQS in the region answers in milliseconds. */
export const QUEUE_CALL_TIMEOUT_MS = 3000;

export async function deliverNotifications(
  records: readonly NotificationRecord[],
  options: DeliverOptions,
): Promise<DeliveryReport> {
  const { timeLeftMs } = options;
  if (!timeLeftMs) return deliverBatch(records, options).report;
  const batch = deliverBatch(records, options);
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, timeLeftMs() - REPORT_MARGIN_MS));
  });
  try {
    const first = await Promise.race([batch.report, outOfTime]);
    if (first !== "late") return first;
  } finally {
    clearTimeout(timer);
  }
  const report = batch.cutShort();
  options.logger.warn(
    "The invocation is about to end with sends or queue calls still running: those records are reported failed, and come back",
    { records: report.failed },
  );
  return report;
}

/** The batch's work, and what to report if it must be cut short: every record not known to be done. */
function deliverBatch(
  records: readonly NotificationRecord[],
  {
    settings,
    logger,
    openMailer,
    queue,
    rate,
    random = Math.random,
    timeLeftMs,
    sendReserveMs = REPORT_MARGIN_MS,
    hold,
    throttleRetries = 0,
  }: DeliverOptions,
): { report: Promise<DeliveryReport>; cutShort: () => DeliveryReport } {
  const counts = {
    sent: 0,
    skipped: 0,
    invalid: 0,
    transient: 0,
    permanent: 0,
    throttled: 0,
    quota: 0,
    settings: 0,
    deadLettered: 0,
    retriedInBatch: 0,
  };
  const failed: string[] = [];
  const timings: DeliveryReport["timings"] = { eventToAcceptedMs: [], transactionMs: [], sessionSetupMs: [] };
  /** Records whose fate is known: sent, skipped, dead-lettered, or reported failed. */
  const done = new Set<string>();
  const fail = (id: string) => {
    failed.push(id);
    done.add(id);
  };
  const later: RetryLater[] = [];
  /** How long the next queue call may take. */
  const callTimeoutMs = () =>
    timeLeftMs ? Math.min(QUEUE_CALL_TIMEOUT_MS, timeLeftMs() - REPORT_MARGIN_MS) : QUEUE_CALL_TIMEOUT_MS;

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
      fail(record.id);
      return;
    }
    try {
      const { id, body, receiveCount } = record;
      const timeoutMs = callTimeoutMs();
      if (timeoutMs <= 0) throw new Error("no time left in the invocation for the dead-letter queue");
      await queue.deadLetter({ id, body, receiveCount, code, reason }, { timeoutMs });
      counts.deadLettered++;
      done.add(record.id);
      logger.error(
        "Notification failed permanently: moved to the dead-letter queue now, with its reason",
        about,
      );
    } catch (error) {
      logger.error("Could not move a notification to the dead-letter queue; SQS will retry it", {
        ...about,
        error,
      });
      fail(record.id);
    }
  };

  const sendable: Array<NotificationRecord & { parsed: { ok: true } }> = [];
  let inFlight: InFlight | undefined;

  const run = async (): Promise<DeliveryReport> => {
    // Invalid records go to the dead-letter queue while the others are sent, not before them.
    const invalid: Array<Promise<void>> = [];
    for (const record of records) {
      if (!record.parsed.ok) {
        counts.invalid++;
        const { issues } = record.parsed;
        invalid.push(
          deadLetter(record, "InvalidNotification", `Invalid notification: ${issues.join("; ")}`, {
            issues,
          }),
        );
      } else if (!settings.SendEmailNotifications) {
        counts.skipped++;
        done.add(record.id);
        logger.info("Notification skipped: SendEmailNotifications is false", { record: record.id });
      } else {
        sendable.push(record as NotificationRecord & { parsed: { ok: true } });
      }
    }
    await Promise.all([invalid, send()].flat());
    return { failed, counts, timings };
  };

  /** The sendable records through one mailer, then the back-offs of those that come back. */
  const send = async (): Promise<void> => {
    if (sendable.length === 0) return;

    inFlight = queue
      ? trackInFlight(sendable, { queue, callTimeoutMs, logger, ...(hold ? { hold } : {}) })
      : undefined;
    let slowedDown = false;
    /**
     * With a rate being learned, a message the provider refused for the rate is sent again in
     * this batch, once the pace has slowed, up to `throttleRetries` times: the pace is the remedy,
     * and a back-off would only add half a minute and a receive.
     */
    const sendRetryingThrottles = async <T>(send: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await send();
        } catch (error) {
          const outcome = outcomeOf(error);
          const forRate = outcome.kind === "throttled" && !SESSION_STAGES.has(outcome.error.stage);
          if (!forRate || attempt >= throttleRetries) throw error;
          const waitMs = throttleRetryWaitMs(attempt, random);
          if (timeLeftMs && timeLeftMs() - waitMs <= Math.max(REPORT_MARGIN_MS, sendReserveMs)) throw error;
          counts.retriedInBatch++;
          await rate?.throttled("rate");
          await new Promise((r) => setTimeout(r, waitMs));
        }
      }
    };
    const onSessionOpened = (ms: number) => timings.sessionSetupMs.push(Math.round(ms));
    const m = openMailer(
      rate
        ? { pace: () => rate.take(), beforeOpen: async () => await rate.beforeOpen?.(), onSessionOpened }
        : { onSessionOpened },
    );
    try {
      await Promise.all(
        sendable.map(async (record) => {
          const { notification } = record.parsed;
          try {
            const outgoing = {
              ...notification,
              messageId: notification.messageId ?? messageIdFor(record.id, settings),
            };
            const result = await sendRetryingThrottles(() => m.send(outgoing));
            counts.sent++;
            done.add(record.id);
            if (record.sentAtMs !== undefined)
              timings.eventToAcceptedMs.push(Math.max(0, Date.now() - record.sentAtMs));
            if (result.transactionMs !== undefined)
              timings.transactionMs.push(Math.round(result.transactionMs));
            inFlight?.accepted(record);
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
            inFlight?.settled(record.id);
            const outcome = outcomeOf(error);
            if (outcome.kind === "dead") {
              counts.permanent++;
              await deadLetter(record, outcome.code, outcome.reason, { error });
              return;
            }
            fail(record.id);
            if (outcome.kind === "quota") counts.quota++;
            if (outcome.kind === "throttled") {
              counts.throttled++;
              if (!slowedDown) {
                slowedDown = true; // once a batch: the pool's other refusals are the same throttle
                await rate?.throttled(SESSION_STAGES.has(outcome.error.stage) ? "connection" : "rate");
              }
            } else if (outcome.kind === "settings") counts.settings++;
            else if (outcome.kind === "retry") counts.transient++;
            const delaySeconds =
              outcome.kind === "quota"
                ? quotaDelaySeconds(record.receiveCount, random)
                : retryDelaySeconds(record.receiveCount, random);
            later.push({ id: record.id, receiptHandle: record.receiptHandle, delaySeconds });
            // A settings refusal is an error: the operator must act (the stack's alarm counts these lines).
            (outcome.kind === "settings" ? logger.error : logger.warn).call(
              logger,
              retryMessage(outcome, error),
              {
                record: record.id,
                server,
                recipient: recipientKey(notification.to),
                receiveCount: record.receiveCount,
                ...(outcome.kind === "settings"
                  ? { [SETTINGS_REFUSAL_FIELD]: "settings", code: outcome.code }
                  : {}),
                ...(queue ? { retryInSeconds: delaySeconds } : {}),
                ...(error instanceof NotStartedError ? { reason: error.message } : { error }),
              },
            );
          }
        }),
      );
    } finally {
      await m.close();
      await inFlight?.finish();
    }
    if (queue && later.length > 0) {
      const timeoutMs = callTimeoutMs();
      const { failed: unchanged } =
        timeoutMs > 0
          ? await queue.retryLater(later, { timeoutMs }).catch(() => ({ failed: later.map((l) => l.id) }))
          : { failed: later.map((l) => l.id) };
      if (unchanged.length > 0) {
        logger.warn(
          "Could not set the back-off of some records: they come back after their hold or the queue's visibility timeout",
          { records: unchanged },
        );
      }
    }
  };

  return {
    report: run(),
    cutShort: () => ({
      failed: [...failed, ...records.map((r) => r.id).filter((id) => !done.has(id))],
      counts: { ...counts },
      timings,
    }),
  };
}

/** The warning for a record that comes back, by why. */
function retryMessage(outcome: Exclude<Outcome, { kind: "dead" }>, error: unknown): string {
  switch (outcome.kind) {
    case "quota":
      return "Notification refused by a spent daily quota: SQS will deliver it again once the quota can have freed";
    case "throttled":
      return "Notification throttled by the provider: SQS will deliver it again after its back-off";
    case "settings":
      return "Notification refused because of the settings (relay, sender, sign-in or policy): the operator must act; SQS will deliver it again after its back-off";
    default:
      return error instanceof NotStartedError
        ? "Notification not attempted: SQS will deliver it again after its back-off"
        : "Notification failed transiently: SQS will retry it";
  }
}
