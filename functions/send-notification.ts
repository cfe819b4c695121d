/**
 * SQS → notification emails. Returns partial batch failures so SQS retries only the records that
 * failed; the queue's redrive policy moves a record that keeps failing to the dead-letter queue.
 * Special here: the records' parsing, the SMTP pool size, sessions kept between batches, the
 * container's pace under the provider's limits (with the fleet's send schedule when the stack made
 * one), and the queue it sets back-offs on (docs/delivery.md).
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { dynamoSendSchedule } from "../lib/aws-dynamodb/index.ts";
import { sqsQueueControl } from "../lib/aws-sqs/index.ts";
import {
  createFleetPace,
  createSendRate,
  deliverNotifications,
  type QueueControl,
} from "../lib/notifications/index.ts";
import { createSessionKeeper } from "../lib/smtp/index.ts";
import { openMailer } from "../lib/transport/index.ts";
import { createFunction, type FunctionDeps } from "./create-function.ts";
import type { SettingsContext } from "./middleware/settings.ts";
import { type RecordsContext, sqsNotifications } from "./middleware/sqs-notifications.ts";

/**
 * Sends may start while this much time is left: one session open and one send, each bounded by
 * SMTPServerTimeout, plus a margin to report. Later records are left for SQS to redeliver.
 */
export function sendReserveMs(smtpTimeoutSeconds: number): number {
  return 2 * smtpTimeoutSeconds * 1000 + 2000;
}

export interface SendNotificationDeps extends FunctionDeps {
  /** Back-offs and the dead-letter queue. Default: SQS at NOTIFICATION_QUEUE_URL and DEAD_LETTER_QUEUE_URL. */
  queue?: QueueControl;
}

export function createHandler(deps: SendNotificationDeps = {}) {
  return createFunction<SQSEvent, SQSBatchResponse, SettingsContext & RecordsContext>(
    "send-notification",
    deps,
    ({ env, rawEnv, smtp, logger }) => {
      let lastScheduleWarning = Number.NEGATIVE_INFINITY;
      // Sessions outlive a batch only in this container, and only while fresh: see createSessionKeeper.
      const keepAliveMs = env.SMTP_KEEPALIVE_SECONDS * 1000;
      const keeper = keepAliveMs > 0 ? createSessionKeeper({ maxIdleMs: keepAliveMs }) : undefined;
      const mailerOptions = { ...smtp, poolSize: env.NOTIFICATION_POOL_SIZE, ...(keeper ? { keeper } : {}) };
      // The container's pace lives as long as the container: a batch starts where the last one ended.
      const ownPace = env.SEND_RATE_PER_SECOND
        ? createSendRate({ perSecond: env.SEND_RATE_PER_SECOND })
        : undefined;
      // With the fleet's schedule on top, the containers' sends also start apart from each other.
      const rate =
        ownPace && env.SEND_SCHEDULE_TABLE && env.FLEET_SEND_RATE_PER_SECOND
          ? createFleetPace({
              local: ownPace,
              store: dynamoSendSchedule({ tableName: env.SEND_SCHEDULE_TABLE }, rawEnv),
              fleetRatePerSecond: env.FLEET_SEND_RATE_PER_SECOND,
              onStoreError: (error) => {
                // Once a minute at most: at the provider's rate, every send would say it again.
                if (Date.now() - lastScheduleWarning < 60_000) return;
                lastScheduleWarning = Date.now();
                logger.warn(
                  "The fleet's send schedule could not be used: sends go at this container's own share of the rate",
                  { error },
                );
              },
            })
          : ownPace;
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
          const reserve = sendReserveMs(settings.values.SMTPServerTimeout);
          const report = await deliverNotifications(records, {
            settings: settings.values,
            logger,
            ...(queue ? { queue } : {}),
            ...(rate ? { rate } : {}),
            openMailer: (batch) =>
              openMailer(settings.values, {
                ...mailerOptions,
                ...batch,
                mayStart: () => context.getRemainingTimeInMillis() > reserve,
              }),
          });
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
