/**
 * Request and response helpers for the local server: reading a bounded body, checking that it is a
 * JSON object, and answering (JSON by default) with the console's security headers, errors included.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isPlainObject } from "../lib/json.ts";

const MAX_BODY = 64 * 1024;

/** A request the console or a script got wrong: 400, with the field at fault. */
export class BadRequest extends Error {
  readonly status = 400;
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** The body as text; over MAX_BODY bytes rejects with a 413 error. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`body over ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The body as a JSON object, or a BadRequest that shows `example`. */
export function parseJsonObject(body: string, example: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadRequest(`the body must be JSON, such as ${example}`);
  }
  if (!isPlainObject(json)) throw new BadRequest(`the body must be a JSON object, such as ${example}`);
  return json;
}

/** A request's value as an error message shows it. */
export const shown = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

export function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // Captured HTML is shown in sandboxed srcdoc iframes: no script of its own may run.
    "content-security-policy":
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'",
  });
  res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/** A route's failure as an answer: 400 with the field for a BadRequest, else the error's status or 500. */
export function sendError(res: ServerResponse, error: Error & { status?: number }) {
  if (res.headersSent) return;
  if (error instanceof BadRequest) {
    send(res, 400, {
      error: error.message,
      ...(error.field !== undefined ? { field: error.field } : {}),
    });
  } else send(res, error.status ?? 500, { error: error.message });
}
