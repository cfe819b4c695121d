/**
 * SQS → notification emails. Returns partial batch failures so SQS retries only the records that
 * failed; the queue's redrive policy moves a record that keeps failing to the dead-letter queue.
 * Special here: the records' parsing, the SMTP pool size, sessions kept between batches, the
 * container's pace under the provider's limits (with the fleet's send schedule when the stack made
 * one), and the queue it sets back-offs on (docs/delivery.md).
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { dynamoConnectionLeases, dynamoLearnedRate, dynamoSendSchedule } from "../lib/aws-dynamodb/index.ts";
import { sqsQueueControl } from "../lib/aws-sqs/index.ts";
import {
  batchSmtpTimeoutSeconds,
  CONNECTION_LIMIT_MESSAGE,
  createConnectionLeases,
  createFleetPace,
  createLearningRate,
  createSendRate,
  type DeliverOptions,
  deliverNotifications,
  deliveryMetrics,
  LEARNED_RATE_MESSAGE,
  type QueueControl,
  sendReserveMs,
  shareBurst,
} from "../lib/notifications/index.ts";
import { createSessionKeeper } from "../lib/smtp/index.ts";
import { openMailer } from "../lib/transport/index.ts";
import { createFunction, type FunctionDeps } from "./create-function.ts";
import type { SettingsContext } from "./middleware/settings.ts";
import { type RecordsContext, sqsNotifications } from "./middleware/sqs-notifications.ts";

/** The waits before a refused connection is tried again when the limits are unknown: about 3.5 s in all, three more connections at most. */
export const REOPEN_REFUSED_AFTER_MS = [500, 1000, 2000] as const;

/** With the rate being learned, a message refused for the rate is sent again in the batch this often (bounded too by the time left): each retry waits for a pace the throttle has just slowed, and a back-off would cost it half a minute (load test i: 3 retries left a 20 s tail). */
export const THROTTLE_RETRIES_WHILE_LEARNING = 8;

export interface SendNotificationDeps extends FunctionDeps {
  /** Back-offs and the dead-letter queue. Default: SQS at NOTIFICATION_QUEUE_URL and DEAD_LETTER_QUEUE_URL. */
  queue?: QueueControl;
  /** How long a running batch's records are held at a time. Default VISIBILITY_HOLD (lib/notifications/in-flight.ts). */
  hold?: DeliverOptions["hold"];
}

export function createHandler(deps: SendNotificationDeps = {}) {
  return createFunction<SQSEvent, SQSBatchResponse, SettingsContext & RecordsContext>(
    "send-notification",
    deps,
    ({ env, rawEnv, smtp, logger, metrics }) => {
      let lastScheduleWarning = Number.NEGATIVE_INFINITY;
      /**
       * A store failure's warning, once a minute at most for all of the table's uses together: at
       * the provider's rate, every send would say it again.
       */
      const storeWarning = (message: string) => (error: unknown) => {
        if (Date.now() - lastScheduleWarning < 60_000) return;
        lastScheduleWarning = Date.now();
        logger.warn(message, { error });
      };
      let lastTimeoutWarning = Number.NEGATIVE_INFINITY;
      // Sessions outlive a batch only in this container, and only while fresh: see createSessionKeeper.
      const keepAliveMs = env.SMTP_KEEPALIVE_SECONDS * 1000;
      const keeper = keepAliveMs > 0 ? createSessionKeeper({ maxIdleMs: keepAliveMs }) : undefined;
      // No connection limit known, so Lambda may run more containers than the provider takes
      // connections: the fleet counts its connections and learns the limit at the first refusal.
      const gate =
        !env.FLEET_MAX_CONNECTIONS && env.SEND_SCHEDULE_TABLE
          ? createConnectionLeases({
              store: dynamoConnectionLeases({ tableName: env.SEND_SCHEDULE_TABLE }, rawEnv),
              onLearned: (connections, from) =>
                logger.warn(CONNECTION_LIMIT_MESSAGE, { learnedConnections: connections, learnedFrom: from }),
              onStoreError: storeWarning(
                "The fleet's connection leases could not be used: this container connects without counting",
              ),
            })
          : undefined;
      const mailerOptions = {
        ...(gate ? { gate } : {}),
        ...smtp,
        poolSize: env.NOTIFICATION_POOL_SIZE,
        ...(keeper ? { keeper } : {}),
        // Limits unknown (no rate configured, so the fleet was not sized under a connection
        // limit): a connection refused for a limit is tried again in a moment, not in a minute.
        // A throttle slows the learned pace; the batch goes on at it rather than backing off whole.
        ...(env.SEND_RATE_PER_SECOND
          ? {}
          : { reopenRefusedAfterMs: REOPEN_REFUSED_AFTER_MS, paceAfterRateThrottle: true }),
      };
      // The container's pace lives as long as the container: a batch starts where the last one ended.
      const ownPace = env.SEND_RATE_PER_SECOND
        ? createSendRate({ perSecond: env.SEND_RATE_PER_SECOND, burst: shareBurst(env.SEND_RATE_PER_SECOND) })
        : undefined;
      // With the fleet's schedule on top, the containers' sends also start apart from each other.
      const rate =
        ownPace && env.SEND_SCHEDULE_TABLE && env.FLEET_SEND_RATE_PER_SECOND
          ? createFleetPace({
              local: ownPace,
              store: dynamoSendSchedule({ tableName: env.SEND_SCHEDULE_TABLE }, rawEnv),
              fleetRatePerSecond: env.FLEET_SEND_RATE_PER_SECOND,
              onCorruptSlot: (ms) =>
                logger.warn(
                  "The fleet's send schedule held a next slot no container can have written (a clock far ahead, or a bad write): overwritten",
                  { nextSlot: new Date(ms).toISOString() },
                ),
              onStoreError: storeWarning(
                "The fleet's send schedule could not be used: sends go at this container's own share of the rate",
              ),
            })
          : (ownPace ??
            // No rate configured: learn one at the provider's first throttle, shared through the
            // schedule's table (lib/notifications/learned-rate.ts).
            createLearningRate({
              ...(env.SEND_SCHEDULE_TABLE
                ? { store: dynamoLearnedRate({ tableName: env.SEND_SCHEDULE_TABLE }, rawEnv) }
                : {}),
              onLearned: ({ perSecond, from }) => {
                if (from === "throttle") {
                  logger.warn(LEARNED_RATE_MESSAGE, {
                    learnedPerSecond: perSecond,
                    suggestedMaxSendRate: `${perSecond} × the containers sending at once`,
                  });
                }
              },
              onStoreError: storeWarning(
                "The fleet's learned rate could not be read or written: this container learns alone",
              ),
            }));
      const queue =
        deps.queue ??
        (env.NOTIFICATION_QUEUE_URL && env.DEAD_LETTER_QUEUE_URL
          ? sqsQueueControl(
              { queueUrl: env.NOTIFICATION_QUEUE_URL, deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL },
              rawEnv,
            )
          : undefined);
      return {
        parse: [sqsNotifications()],
        async handler(_event, context) {
          const { settings, records, logger } = context;
          const timeLeftMs = () => context.getRemainingTimeInMillis();
          const configured = settings.values.SMTPServerTimeout;
          const timeout = batchSmtpTimeoutSeconds(configured, timeLeftMs());
          if (timeout < configured && Date.now() - lastTimeoutWarning > 60_000) {
            lastTimeoutWarning = Date.now();
            logger.warn(
              "SMTPServerTimeout is longer than this function's timeout allows: each SMTP stage is bounded by a share of the time left; redeploy (cdk deploy) to size the function for it",
              { SMTPServerTimeout: configured, boundedTo: timeout, timeLeftMs: timeLeftMs() },
            );
          }
          const reserve = sendReserveMs(timeout);
          const report = await deliverNotifications(records, {
            settings: settings.values,
            logger,
            timeLeftMs,
            sendReserveMs: reserve,
            // A rate being learned is found by its throttles: such a refusal is sent again at the slowed pace.
            ...(env.SEND_RATE_PER_SECOND ? {} : { throttleRetries: THROTTLE_RETRIES_WHILE_LEARNING }),
            ...(deps.hold ? { hold: deps.hold } : {}),
            ...(queue ? { queue } : {}),
            ...(rate ? { rate } : {}),
            openMailer: (batch) =>
              openMailer(
                { ...settings.values, SMTPServerTimeout: timeout },
                { ...mailerOptions, ...batch, mayStart: () => timeLeftMs() > reserve },
              ),
          });
          metrics(deliveryMetrics(report), settings.values.Transport);
          logger.info("Batch done", {
            records: records.length,
            failed: report.failed.length,
            ...report.counts,
          });
          return { batchItemFailures: report.failed.map((itemIdentifier) => ({ itemIdentifier })) };
        },
      };
    },
  );
}

export const handler = createHandler();
