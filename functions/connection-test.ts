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
import { secretForms } from "../lib/smtp/index.ts";
import { createFunction, type FunctionDeps } from "./create-function.ts";
import { type BodyContext, httpJsonBody } from "./middleware/http-json-body.ts";
import { httpProblems } from "./middleware/http-problems.ts";
import type { SettingsContext } from "./middleware/settings.ts";

export const MAX_BODY_BYTES = 16 * 1024;

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

export function createHandler(deps: FunctionDeps = {}) {
  return createFunction<Event, Result, SettingsContext & BodyContext<ConnectionTestRequest>>(
    "connection-test",
    deps,
    ({ smtp }) => ({
      outer: [
        httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "Internal error" }) }),
      ],
      parse: [
        httpHeaderNormalizer(),
        httpJsonBody({ schema: ConnectionTestRequestSchema, maxBytes: MAX_BODY_BYTES }),
        httpProblems(),
      ],
      async handler(_event, { body, settings, logger }) {
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
      },
    }),
  );
}

export const handler = createHandler();
