/**
 * POST /email/test (IAM-authorised at the gateway): runs the staged connection check with the
 * caller's settings applied over the effective ones, optionally sending one test message.
 * Special here: HTTP error rendering, the JSON body, and a typed-in password scrubbed from logs.
 */
import httpErrorHandler from "@middy/http-error-handler";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  type ConnectionTestRequest,
  ConnectionTestRequestSchema,
  testConnection,
} from "../lib/connection-test/index.ts";
import { SECRET_SETTINGS, type SettingName } from "../lib/settings/index.ts";
import { createFunction, type FunctionDeps, settingSecrets } from "./create-function.ts";
import { type BodyContext, httpJsonBody } from "./middleware/http-json-body.ts";
import { httpProblems } from "./middleware/http-problems.ts";
import type { SettingsContext } from "./middleware/settings.ts";

export const MAX_BODY_BYTES = 16 * 1024;

/** The caller as API Gateway's IAM authorizer saw it; "unauthenticated" when there is none (the local run). */
function callerOf(event: Event): { userArn: string; accountId?: string } {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: string; accountId?: string } } })
    .authorizer?.iam;
  return iam?.userArn
    ? { userArn: iam.userArn, ...(iam.accountId ? { accountId: iam.accountId } : {}) }
    : { userArn: "unauthenticated" };
}

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

export function createHandler(deps: FunctionDeps = {}) {
  return createFunction<Event, Result, SettingsContext & BodyContext<ConnectionTestRequest>>(
    "connection-test",
    deps,
    ({ env, smtp }) => ({
      outer: [
        httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "Internal error" }) }),
      ],
      parse: [
        httpHeaderNormalizer(),
        httpJsonBody({ schema: ConnectionTestRequestSchema, maxBytes: MAX_BODY_BYTES }),
        httpProblems(),
      ],
      async handler(event, context) {
        const { body, settings } = context;
        // Who asked, on every line of this test: the IAM identity the gateway authorised.
        const logger = context.logger.child({ caller: callerOf(event) });
        // A secret typed into the test is as secret as a saved one, in every form it may travel in.
        const typed = Object.fromEntries(
          Object.entries(body.settings ?? {}).filter(
            ([name, value]) => SECRET_SETTINGS.has(name as SettingName) && typeof value === "string",
          ),
        );
        if (Object.keys(typed).length > 0) {
          const user = String(body.settings?.SMTPUsername ?? settings.values.SMTPUsername);
          const none = Object.fromEntries([...SECRET_SETTINGS].map((name) => [name, ""]));
          for (const form of settingSecrets({ ...settings.values, ...none, SMTPUsername: user, ...typed })) {
            logger.addSecret(form);
          }
        }
        const result = await testConnection(body, {
          effective: settings,
          smtp,
          timeLeftMs: context.getRemainingTimeInMillis(),
          ...(env.TEST_ALLOWED_SMTP_HOSTS ? { allowedHosts: env.TEST_ALLOWED_SMTP_HOSTS } : {}),
        });
        logger.info("Connection test done", {
          ok: result.ok,
          server: `${result.settings.SMTPServer.value}:${result.settings.SMTPPort.value}`,
          failedStage: result.error?.stage,
          sentTestMessage: Boolean(body.to),
          warnings: result.warnings.length,
        });
        return {
          statusCode: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(result),
        };
      },
    }),
  );
}

export const handler = createHandler();
