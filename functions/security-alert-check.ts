/**
 * Scheduled: mails new security bulletins that apply to APP_VERSION to the admins, once each.
 * A failure throws after every bulletin was tried, so the schedule's retries and failure
 * destination (and its alarm) see it; what was sent stays sent. Special here: the sent-store.
 */

import { ssmApiFromEnv } from "../lib/aws-ssm/index.ts";
import { METRICS } from "../lib/metrics/index.ts";
import {
  type FeedLimits,
  runSecurityAlertCheck,
  type SecurityAlertReport,
  type SentStore,
  securityAlertConfig,
  ssmSentStore,
} from "../lib/security-alerts/index.ts";
import { openMailer } from "../lib/transport/index.ts";
import { createFunction, type FunctionDeps } from "./create-function.ts";

export interface SecurityAlertDeps extends FunctionDeps {
  sentStore?: SentStore;
  limits?: FeedLimits;
}

export function createHandler(deps: SecurityAlertDeps = {}) {
  return createFunction<unknown, SecurityAlertReport>(
    "security-alert-check",
    deps,
    ({ env, rawEnv, smtp, metrics }) => {
      let sentStore = deps.sentStore;
      return {
        async handler(_event, { settings, logger }) {
          sentStore ??= ssmSentStore({ api: ssmApiFromEnv(rawEnv), root: env.SETTINGS_PATH });
          const report = await runSecurityAlertCheck({
            settings: settings.values,
            config: () => securityAlertConfig(rawEnv, settings.others),
            store: sentStore,
            mailer: () => openMailer(settings.values, smtp),
            logger,
            maxPerRun: env.SECURITY_ALERT_MAX_PER_RUN,
            ...(deps.limits ? { limits: deps.limits } : {}),
          });
          metrics(
            {
              [METRICS.bulletinsSent]: {
                unit: "Count",
                values: report.sent.length > 0 ? [report.sent.length] : [],
              },
            },
            settings.values.Transport,
          );
          logger.info("Security alert check done", { ...report });
          return report;
        },
      };
    },
  );
}

export const handler = createHandler();
