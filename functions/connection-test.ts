/**
 * POST /email/test (IAM-authorised at the gateway): runs the staged connection check with the
 * caller's settings applied over the effective ones, optionally sending one test message.
 * Special here: HTTP error rendering, the JSON body, the caller on every line (a refusal's too),
 * and the secrets the request typed kept out of every line and answer, wherever it put them; the
 * stored ones out of every answer too (the logger scrubs them from every line once the settings
 * are read; an invalid setting's error never quotes one: lib/settings/resolve.ts), wherever a
 * setting shows them: an environment variable may have put the password into SMTPServer.
 */

import type { MiddlewareObj } from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  type ConnectionTestRequest,
  ConnectionTestRequestSchema,
  scrubDeep,
  testConnection,
  typedSecrets,
} from "../lib/connection-test/index.ts";
import { METRICS } from "../lib/metrics/index.ts";
import { scrub } from "../lib/scrub.ts";
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

/** The secrets this request typed, in every form, as far as it has been read. */
type TypedContext = { typed: string[] };
type TestContext = SettingsContext & BodyContext<ConnectionTestRequest> & TypedContext;

/** What an answer must not contain: the secrets the request typed, and the stored ones once read. */
function answerSecrets(context: Partial<TestContext>): string[] {
  const stored = context.settings ? settingSecrets(context.settings.values) : [];
  return [...(context.typed ?? []), ...stored];
}

/** Scrubs them from this request's log lines, and keeps them for its answer. */
function remember(context: TestContext, secrets: readonly string[]) {
  for (const secret of secrets) {
    if (context.typed.includes(secret)) continue;
    context.typed.push(secret);
    context.logger.addSecret(secret);
  }
}

/**
 * First of the request's own middlewares, so nothing can refuse it before: its logger names the
 * caller (the "Request rejected" line of a 400, 403 or 413 included). On an error, after
 * httpProblems has made it an answer and before it is logged and written, the answer loses every
 * secret the request typed, and the stored ones.
 */
function callerAndTypedSecrets(): MiddlewareObj<Event, Result, Error, TestContext> {
  return {
    name: "callerAndTypedSecrets",
    before(request) {
      request.context.logger = request.context.logger.child({ caller: callerOf(request.event) });
      request.context.typed = [];
    },
    onError(request) {
      const error = request.error as (Error & { expose?: boolean }) | null;
      const secrets = answerSecrets(request.context);
      if (!error?.expose || secrets.length === 0) return;
      try {
        error.message = JSON.stringify(scrubDeep(JSON.parse(error.message), secrets));
      } catch {
        error.message = scrub(error.message, secrets);
      }
    },
  };
}

export function createHandler(deps: FunctionDeps = {}) {
  return createFunction<Event, Result, TestContext>("connection-test", deps, ({ env, smtp, metrics }) => ({
    outer: [
      httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "Internal error" }) }),
    ],
    parse: [
      callerAndTypedSecrets(),
      httpHeaderNormalizer(),
      httpJsonBody({
        schema: ConnectionTestRequestSchema,
        maxBytes: MAX_BODY_BYTES,
        // Before the schema, or a setting's rule, can quote one.
        onJson: (json, context: TestContext) => remember(context, typedSecrets(json)),
      }),
      httpProblems(),
    ],
    async handler(_event, context) {
      const { body, settings, logger } = context;
      // Now the username the test signs in with is known: the password as AUTH sends it with it.
      remember(context, typedSecrets(body, settings.values.SMTPUsername));
      const result = await testConnection(body, {
        effective: settings,
        smtp,
        timeLeftMs: context.getRemainingTimeInMillis(),
        ...(env.TEST_ALLOWED_SMTP_HOSTS ? { allowedHosts: env.TEST_ALLOWED_SMTP_HOSTS } : {}),
        ...(env.TEST_ALLOWED_PORTS ? { allowedPorts: env.TEST_ALLOWED_PORTS } : {}),
      });
      metrics(
        { [METRICS.connectionTests]: { unit: "Count", values: [1] } },
        String(result.settings.Transport?.value ?? settings.values.Transport),
      );
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
        // The settings tested are answered back, and a server may quote what it was sent.
        body: JSON.stringify(scrubDeep(result, answerSecrets(context))),
      };
    },
  }));
}

export const handler = createHandler();
