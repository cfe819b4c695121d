/**
 * Maps the connection test's known failures to HTTP answers with a JSON `{ "error" }` body;
 * @middy/http-error-handler writes them out. Anything unknown stays a generic 500.
 */
import type { MiddlewareObj } from "@middy/core";
import { createError } from "@middy/util";
import type { Context } from "aws-lambda";
import { ConnectionTestRequestError } from "../../lib/connection-test/index.ts";
import { InvalidSettingsError, SettingsLoadError } from "../../lib/settings/index.ts";

export function httpProblems<TEvent, TResult, TContext extends object>(): MiddlewareObj<
  TEvent,
  TResult,
  Error,
  TContext & Context
> {
  return {
    name: "httpProblems",
    onError(request) {
      const error = request.error;
      const answer = (status: number, message: string) =>
        createError(status, JSON.stringify({ error: message }), { expose: true, cause: error });
      if (error instanceof ConnectionTestRequestError)
        request.error = answer(error.statusCode, error.message);
      else if (error instanceof InvalidSettingsError || error instanceof SettingsLoadError) {
        request.error = answer(500, error.message);
      }
    },
  };
}
