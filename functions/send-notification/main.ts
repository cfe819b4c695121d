/**
 * SQS → notification emails. Returns partial batch failures so SQS retries only the records that
 * failed; the queue's redrive policy moves a record that keeps failing to the dead-letter queue.
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deliverNotifications } from "../../lib/notifications/index.ts";
import { createMailer, createSessionKeeper } from "../../lib/smtp/index.ts";
import { structuredLogging } from "../middleware/logging.ts";
import { emailSettings, type SettingsContext } from "../middleware/settings.ts";
import { type RecordsContext, sqsNotifications } from "../middleware/sqs-notifications.ts";
import {
  createFunctionLogger,
  type FunctionDeps,
  keepAliveMsFromEnv,
  type LambdaFunction,
  poolSizeFromEnv,
  sendReserveMs,
  settingsLoader,
  smtpOptionsFromEnv,
} from "../runtime.ts";

export type SendNotificationDeps = FunctionDeps;

export function createHandler(deps: SendNotificationDeps = {}): LambdaFunction<SQSEvent, SQSBatchResponse> {
  const env = deps.env ?? process.env;
  const logger = createFunctionLogger("send-notification", env, deps.write);
  const loader = settingsLoader({ env, logger, ...(deps.store === undefined ? {} : { store: deps.store }) });
  const keepAliveMs = keepAliveMsFromEnv(env);
  // Sessions outlive a batch only in this container, and only while fresh: see createSessionKeeper.
  const keeper = keepAliveMs > 0 ? createSessionKeeper({ maxIdleMs: keepAliveMs }) : undefined;
  const smtp = {
    ...smtpOptionsFromEnv(env),
    poolSize: poolSizeFromEnv(env),
    ...(keeper ? { keeper } : {}),
    ...deps.smtp,
  };

  return middy<SQSEvent, SQSBatchResponse, Error, SettingsContext & RecordsContext>()
    .use(structuredLogging(logger))
    .use(emailSettings({ load: loader.get }))
    .use(sqsNotifications())
    .handler(async (_event, context) => {
      const { settings, records, logger } = context;
      const reserve = sendReserveMs(settings.values.SMTPServerTimeout);
      const report = await deliverNotifications(records, {
        settings: settings.values,
        logger,
        openMailer: () =>
          createMailer(settings.values, {
            ...smtp,
            mayStart: () => context.getRemainingTimeInMillis() > reserve,
          }),
      });
      logger.info("Batch done", { records: records.length, failed: report.failed.length, ...report.counts });
      return { batchItemFailures: report.failed.map((itemIdentifier) => ({ itemIdentifier })) };
    }) as unknown as LambdaFunction<SQSEvent, SQSBatchResponse>;
}

export const handler = createHandler();
