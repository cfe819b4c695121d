/**
 * SQS → notification emails. Returns partial batch failures so SQS retries only the records that
 * failed; the queue's redrive policy moves a record that keeps failing to the dead-letter queue.
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deliverNotifications } from "../../lib/notifications/index.ts";
import type { SettingsStore } from "../../lib/settings/index.ts";
import { createMailer, type SmtpSessionOptions } from "../../lib/smtp/index.ts";
import { type StructuredLoggingOptions, structuredLogging } from "../middleware/logging.ts";
import { emailSettings, type SettingsContext } from "../middleware/settings.ts";
import { type RecordsContext, sqsNotifications } from "../middleware/sqs-notifications.ts";
import {
  type Env,
  type LambdaFunction,
  poolSizeFromEnv,
  settingsLoader,
  smtpOptionsFromEnv,
} from "../runtime.ts";

export interface SendNotificationDeps {
  env?: Env;
  store?: SettingsStore | null;
  write?: StructuredLoggingOptions["write"];
  smtp?: SmtpSessionOptions;
}

export function createHandler(deps: SendNotificationDeps = {}): LambdaFunction<SQSEvent, SQSBatchResponse> {
  const env = deps.env ?? process.env;
  const loader = settingsLoader({ env, ...(deps.store === undefined ? {} : { store: deps.store }) });
  const smtp = { ...smtpOptionsFromEnv(env), poolSize: poolSizeFromEnv(env), ...deps.smtp };

  return middy<SQSEvent, SQSBatchResponse, Error, SettingsContext & RecordsContext>()
    .use(structuredLogging({ service: "send-notification", ...(deps.write ? { write: deps.write } : {}) }))
    .use(emailSettings({ load: loader.get }))
    .use(sqsNotifications())
    .handler(async (_event, { settings, records, logger }) => {
      const report = await deliverNotifications(records, {
        settings: settings.values,
        logger,
        openMailer: () => createMailer(settings.values, smtp),
      });
      logger.info("Batch done", { records: records.length, failed: report.failed.length, ...report.counts });
      return { batchItemFailures: report.failed.map((itemIdentifier) => ({ itemIdentifier })) };
    }) as unknown as LambdaFunction<SQSEvent, SQSBatchResponse>;
}

export const handler = createHandler();
