/**
 * Reads an HTTP API request's JSON body: size-limited (413), parsed (400 naming the JSON error,
 * never quoting the body) and validated against a zod schema (400 listing every rule broken). An
 * empty body is `{}`. `onJson` sees the body as parsed, before the schema can refuse (and quote)
 * it: the connection test reads the secrets it types there.
 */
import type { MiddlewareObj } from "@middy/core";
import { createError } from "@middy/util";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type * as z from "zod/mini";
import { describeIssues } from "../../lib/zod.ts";

export type BodyContext<T> = { body: T };

const problem = (status: number, error: string) =>
  createError(status, JSON.stringify({ error }), { expose: true });

export function httpJsonBody<S extends z.ZodMiniType, TContext extends object>({
  schema,
  maxBytes,
  onJson,
}: {
  schema: S;
  maxBytes: number;
  /** Called with the parsed JSON before it is validated. */
  onJson?: (json: unknown, context: TContext) => void;
}): MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, TContext & BodyContext<z.output<S>>> {
  return {
    name: "httpJsonBody",
    before(request) {
      const { body, isBase64Encoded } = request.event;
      const raw =
        body === undefined ? "" : isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
      const size = Buffer.byteLength(raw, "utf8");
      if (size > maxBytes) throw problem(413, `Request body is ${size} bytes; the limit is ${maxBytes}`);
      let json: unknown = {};
      if (raw.trim() !== "") {
        try {
          json = JSON.parse(raw);
        } catch (error) {
          // V8's message quotes the text around the error, which may be a password: say where only.
          const at = /position (\d+)/.exec((error as Error).message)?.[1];
          throw problem(
            400,
            `Request body is not valid JSON${at === undefined ? "" : ` (at position ${at})`}`,
          );
        }
      }
      onJson?.(json, request.context);
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw problem(400, `Invalid request: ${describeIssues(parsed.error, { root: "body" }).join("; ")}`);
      }
      request.context.body = parsed.data;
    },
  };
}
