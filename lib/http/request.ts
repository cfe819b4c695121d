/**
 * One HTTP(S) request with deadlines and a bounded answer: what the lite AWS clients
 * (lib/aws/json-client.ts) and the OAuth2 token endpoints (lib/oauth2/) send. Written once, so
 * every outside call has a connect deadline, an overall deadline and a cap on what it reads.
 *
 * node:http and node:https are loaded on the first request, not with this module, and as
 * CommonJS (process.getBuiltinModule): loading node:http alone takes about 25 ms, which a cold
 * start's entry must not spend before it has opened the SMTP connection, and an ES import of a
 * built-in reads every export, node:http's WebSocket loading undici (11 ms more; BENCHMARKS.md).
 */
import type { Agent, IncomingHttpHeaders } from "node:http";
import { timeoutError } from "../timeouts.ts";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  headers: Record<string, string>;
  body?: string;
  /** No connection within this long fails the request (a timeout error). */
  connectTimeoutMs: number;
  /** No complete answer within this long fails the request (a timeout error). */
  timeoutMs: number;
  /** An answer longer than this fails the request: a broken or hostile endpoint cannot fill the memory. */
  maxBytes: number;
  /** A kept-alive agent of the caller's (httpAgent); default: a new connection. */
  agent?: Agent;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The answer was longer than the request allowed. */
export class AnswerTooLargeError extends Error {
  override readonly name = "AnswerTooLargeError";
  readonly code = "EANSWERTOOLARGE";
}

/** A kept-alive agent for one endpoint's scheme, so a warm container reuses its connection. */
export function httpAgent(url: URL, maxSockets = 4): Agent {
  const mod = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http");
  return new mod.Agent({ keepAlive: true, maxSockets });
}

export function httpRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const mod = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http");
  const body = request.body ?? "";
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: request.method,
        ...(request.agent ? { agent: request.agent } : {}),
        headers: {
          ...request.headers,
          ...(request.method === "GET" ? {} : { "content-length": String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on("data", (c: Buffer) => {
          length += c.length;
          if (length > request.maxBytes) {
            req.destroy(new AnswerTooLargeError(`the answer is longer than ${request.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    const overall = setTimeout(
      () => req.destroy(timeoutError(`no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    req.on("socket", (socket) => {
      if (socket.connecting) {
        socket.setTimeout(request.connectTimeoutMs, () =>
          req.destroy(timeoutError(`no connection within ${request.connectTimeoutMs} ms`)),
        );
        socket.once("connect", () => socket.setTimeout(0));
      }
    });
    req.on("error", reject);
    req.on("close", () => clearTimeout(overall));
    req.end(request.method === "GET" ? undefined : body);
  });
}
