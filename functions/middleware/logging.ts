/**
 * Structured JSON logs bound to the invocation (request id), with every secret the pipeline
 * registers scrubbed from every line. Failures are logged once, here.
 */
import type { MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import type { JsonLogger } from "../../lib/logger.ts";

export type LoggingContext = Context & { logger: JsonLogger };

/**
 * `root` lives as long as the container (createFunction in functions/create-function.ts makes it),
 * so secrets registered once stay scrubbed, and container-level work (the settings cache) logs
 * through it too.
 */
export function structuredLogging<TEvent, TResult>(
  root: JsonLogger,
): MiddlewareObj<TEvent, TResult, Error, LoggingContext> {
  return {
    name: "structuredLogging",
    before(request) {
      request.context.logger = root.child({ requestId: request.context.awsRequestId });
    },
    onError(request) {
      const logger = request.context.logger ?? root;
      const error = request.error;
      const status = (error as { statusCode?: number } | null)?.statusCode;
      if (status !== undefined && status < 500) logger.warn("Request rejected", { status, error });
      else logger.error("Invocation failed", { error });
    },
  };
}
