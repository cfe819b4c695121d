/**
 * Scheduled: mails new security bulletins that apply to APP_VERSION to the admins, once each.
 * A failure throws after every bulletin was tried, so the schedule's retries and failure
 * destination (and its alarm) see it; what was sent stays sent.
 */
import middy from "@middy/core";
import {
  type FeedLimits,
  runSecurityAlertCheck,
  type SecurityAlertReport,
  type SentStore,
  securityAlertConfig,
  ssmSentStore,
} from "../../lib/security-alerts/index.ts";
import { settingsRootPath, ssmApiFromEnv } from "../../lib/settings/index.ts";
import { createMailer } from "../../lib/smtp/index.ts";
import { structuredLogging } from "../middleware/logging.ts";
import { emailSettings, type SettingsContext } from "../middleware/settings.ts";
import {
  createFunctionLogger,
  type FunctionDeps,
  type LambdaFunction,
  settingsLoader,
  smtpOptionsFromEnv,
} from "../runtime.ts";

export interface SecurityAlertDeps extends FunctionDeps {
  sentStore?: SentStore;
  limits?: FeedLimits;
}

export function createHandler(deps: SecurityAlertDeps = {}): LambdaFunction<unknown, SecurityAlertReport> {
  const env = deps.env ?? process.env;
  const logger = createFunctionLogger("security-alert-check", env, deps.write);
  const loader = settingsLoader({ env, logger, ...(deps.store === undefined ? {} : { store: deps.store }) });
  const smtp = { ...smtpOptionsFromEnv(env), ...deps.smtp };
  let sentStore = deps.sentStore;

  return middy<unknown, SecurityAlertReport, Error, SettingsContext>()
    .use(structuredLogging(logger))
    .use(emailSettings({ load: loader.get }))
    .handler(async (_event, { settings, logger }) => {
      sentStore ??= ssmSentStore({ api: ssmApiFromEnv(env), root: settingsRootPath(env) });
      const report = await runSecurityAlertCheck({
        settings: settings.values,
        config: () => securityAlertConfig(env, settings.others),
        store: sentStore,
        mailer: () => createMailer(settings.values, smtp),
        logger,
        ...(deps.limits ? { limits: deps.limits } : {}),
      });
      logger.info("Security alert check done", { ...report });
      return report;
    }) as unknown as LambdaFunction<unknown, SecurityAlertReport>;
}

export const handler = createHandler();
