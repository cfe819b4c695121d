/**
 * The local servers serve this machine's programs and the console's own page, never another web
 * page: a page elsewhere can send a browser to 127.0.0.1 (a cross-site form, a DNS name rebound to
 * 127.0.0.1), and the local run holds secrets and sends mail. So a request is refused unless its
 * Host names this machine (127.0.0.1 or localhost, with the server's own port), any Origin is the
 * server's own, and a body comes as JSON where the route takes JSON: a cross-site page can send
 * text/plain or a form without asking, but not JSON.
 */
import type { IncomingMessage } from "node:http";

export interface LoopbackRules {
  /** Accept a browser's request from the server's own origin (the console page). Default false: no browser at all. */
  ownOrigin?: boolean;
  /** POST and PUT bodies must be JSON. Default true. */
  json?: boolean;
  /** Other ports a Host may name: a proxy on this machine in front of the server (the benchmarks' latency proxy). Default none. */
  proxyPorts?: ReadonlySet<number>;
}

const LOCAL_HOST = /^(127\.0\.0\.1|localhost)(?::(\d+))?$/i;

/** Why `req` is refused, or undefined when it may be served. */
export function loopbackRefusal(
  req: IncomingMessage,
  { ownOrigin = false, json = true, proxyPorts }: LoopbackRules = {},
): string | undefined {
  const port = req.socket.localPort;
  const host = LOCAL_HOST.exec(req.headers.host ?? "");
  const named = host?.[2] === undefined ? undefined : Number(host[2]);
  if (!host || (named !== undefined && named !== port && !proxyPorts?.has(named))) {
    return `Host ${JSON.stringify(req.headers.host ?? "")} is not this machine's 127.0.0.1:${port} or localhost:${port}`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    if (!ownOrigin || !own.includes(origin.toLowerCase()))
      return `requests from ${JSON.stringify(origin)} are not served`;
  }
  if (json && (req.method === "POST" || req.method === "PUT")) {
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return "a request body must be JSON (content-type: application/json)";
  }
  return undefined;
}
