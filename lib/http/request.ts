/**
 * One HTTP(S) request with deadlines and a bounded answer: what the lite AWS clients
 * (lib/aws/json-client.ts) and the OAuth2 token endpoints (lib/oauth2/) send. Written once, so
 * every outside call has a connect deadline, an overall deadline and a cap on what it reads (an
 * answer over the cap is cut off as it streams and its socket destroyed), and says whether a failed
 * request surely never reached the server (notSent), the one failure safe to retry for any request.
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
  /** No connection (over TLS: no handshake done) within this long fails the request (a timeout error). */
  connectTimeoutMs: number;
  /** No complete answer within this long fails the request (a timeout error). */
  timeoutMs: number;
  /**
   * An answer longer than this fails the request (AnswerTooLargeError) as soon as it is longer, or
   * its content-length says it will be: a broken or hostile endpoint cannot fill the memory.
   */
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

/** Failures of requests that surely never reached the server (notSent). */
const unsent = new WeakSet<object>();

/**
 * Whether `error` (from httpRequest) is sure to have left the server untouched, so that sending
 * the request again cannot apply it twice: no connection was made (DNS, ECONNREFUSED, the connect
 * deadline, the TLS handshake), or a kept-alive connection was reset before any answer (the server
 * had closed it while idle: Node's documented case for a retry, `request.reusedSocket`). A reset of
 * a new connection, a timeout after connecting, or anything once the answer began: the server may
 * have read and applied the request.
 */
export const notSent = (error: unknown): boolean =>
  typeof error === "object" && error !== null && unsent.has(error);

/** A kept-alive agent for one endpoint's scheme, so a warm container reuses its connection. */
export function httpAgent(url: URL, maxSockets = 4): Agent {
  const mod = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http");
  return new mod.Agent({ keepAlive: true, maxSockets });
}

export function httpRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const mod = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http");
  const body = request.body ?? "";
  return new Promise<HttpAnswer>((resolve, reject) => {
    /** Where the request got: nothing sent yet, maybe sent (connected), answering (a status came). */
    let stage: "unsent" | "sent" | "answering" = "unsent";
    let reused = false;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      const reset =
        (error as { code?: string }).code === "ECONNRESET" || (error as { code?: string }).code === "EPIPE";
      if (stage === "unsent" || (stage === "sent" && reused && reset)) unsent.add(error);
      reject(error);
    };
    /** Fails the request with `error` and destroys its socket: nothing more is read from it. */
    const abort = (error: Error) => {
      fail(error);
      req.destroy(error);
    };
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
        stage = "answering";
        const tooLarge = () => new AnswerTooLargeError(`the answer is longer than ${request.maxBytes} bytes`);
        // Said up front: refused before a byte of it is read.
        if (Number(res.headers["content-length"]) > request.maxBytes) return abort(tooLarge());
        const chunks: Buffer[] = [];
        let length = 0;
        res.on("data", (c: Buffer) => {
          if (settled) return;
          length += c.length;
          if (length > request.maxBytes) return abort(tooLarge());
          chunks.push(c);
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", fail);
      },
    );
    const overall = setTimeout(
      () => abort(timeoutError(`no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    req.on("socket", (socket) => {
      if (socket.connecting) {
        socket.setTimeout(request.connectTimeoutMs, () =>
          abort(timeoutError(`no connection within ${request.connectTimeoutMs} ms`)),
        );
        // Over TLS the request leaves after the handshake, not at the TCP connect.
        const ready = "encrypted" in socket ? "secureConnect" : "connect";
        socket.once(ready, () => {
          socket.setTimeout(0);
          if (stage === "unsent") stage = "sent";
        });
      } else {
        reused = true;
        stage = "sent";
      }
    });
    req.on("error", fail);
    req.on("close", () => clearTimeout(overall));
    req.end(request.method === "GET" ? undefined : body);
  });
}
