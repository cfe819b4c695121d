/**
 * POST /email/test (IAM-authorised at the gateway): runs the staged connection check with the
 * caller's settings applied over the effective ones, optionally sending one test message.
 */
import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  type ConnectionTestRequest,
  ConnectionTestRequestSchema,
  testConnection,
} from "../../lib/connection-test/index.ts";
import { secretForms } from "../../lib/smtp/index.ts";
import { type BodyContext, httpJsonBody } from "../middleware/http-json-body.ts";
import { httpProblems } from "../middleware/http-problems.ts";
import { structuredLogging } from "../middleware/logging.ts";
import { emailSettings, type SettingsContext } from "../middleware/settings.ts";
import {
  createFunctionLogger,
  type FunctionDeps,
  type LambdaFunction,
  settingsLoader,
  smtpOptionsFromEnv,
} from "../runtime.ts";

export const MAX_BODY_BYTES = 16 * 1024;

export type ConnectionTestDeps = FunctionDeps;

export function createHandler(
  deps: ConnectionTestDeps = {},
): LambdaFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const env = deps.env ?? process.env;
  const logger = createFunctionLogger("connection-test", env, deps.write);
  const loader = settingsLoader({ env, logger, ...(deps.store === undefined ? {} : { store: deps.store }) });
  const smtp = { ...smtpOptionsFromEnv(env), ...deps.smtp };

  return middy<
    APIGatewayProxyEventV2,
    APIGatewayProxyStructuredResultV2,
    Error,
    SettingsContext & BodyContext<ConnectionTestRequest>
  >()
    .use(httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "Internal error" }) }))
    .use(structuredLogging(logger))
    .use(httpHeaderNormalizer())
    .use(httpJsonBody({ schema: ConnectionTestRequestSchema, maxBytes: MAX_BODY_BYTES }))
    .use(emailSettings({ load: loader.get }))
    .use(httpProblems())
    .handler(async (_event, { body, settings, logger }) => {
      // A password typed into the test is as secret as the saved one.
      const typed = body.settings?.SMTPPassword;
      if (typeof typed === "string") {
        const user = String(body.settings?.SMTPUsername ?? settings.values.SMTPUsername);
        for (const form of secretForms(typed, user)) logger.addSecret(form);
      }
      const result = await testConnection(body, { effective: settings, smtp });
      logger.info("Connection test done", {
        ok: result.ok,
        failedStage: result.error?.stage,
        sentTestMessage: Boolean(body.to),
      });
      return {
        statusCode: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(result),
      };
    }) as unknown as LambdaFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
}

export const handler = createHandler();
