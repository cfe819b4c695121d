/**
 * Structured JSON logs bound to the invocation (service, request id), with every secret the
 * pipeline registers scrubbed from every line. Failures are logged once, here.
 */
import type { MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { createJsonLogger, type JsonLogger, type JsonLoggerOptions } from "../../lib/logger.ts";

export type LoggingContext = Context & { logger: JsonLogger };

export interface StructuredLoggingOptions {
  service: string;
  /** Where lines go. Default: stdout. */
  write?: JsonLoggerOptions["write"];
}

/** One root logger per container, so secrets registered once stay scrubbed for its lifetime. */
export function structuredLogging<TEvent, TResult>({
  service,
  write,
}: StructuredLoggingOptions): MiddlewareObj<TEvent, TResult, Error, LoggingContext> {
  const root = createJsonLogger({ fields: { service }, ...(write ? { write } : {}) });
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
