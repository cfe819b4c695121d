/**
 * The shape of one route of the local server, and the request listener that picks a request's
 * route (method and path), runs it, and answers 404 for no route and an error for a failed one.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { send, sendError } from "../http.ts";
import { loopbackRefusal } from "../loopback-only.ts";

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The URL's path, without the query. */
  path: string;
  /** A RegExp path's capture groups; empty for a plain path. */
  params: string[];
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** The exact path, or a RegExp the whole path must match. */
  path: string | RegExp;
  handle(request: RouteRequest): unknown;
}

function match(route: Route, method: string | undefined, path: string): string[] | undefined {
  if (route.method !== method) return undefined;
  if (typeof route.path === "string") return route.path === path ? [] : undefined;
  return route.path.exec(path)?.slice(1);
}

/** A request listener for `routes`: the first whose method and path match answers. */
export function routeRequests(routes: readonly Route[]) {
  async function answer(req: IncomingMessage, res: ServerResponse) {
    // Every route, reads included: settings, captured mail and dead letters are no web page's.
    const refused = loopbackRefusal(req, { ownOrigin: true });
    if (refused) return send(res, 403, { error: refused });
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    for (const route of routes) {
      const params = match(route, req.method, path);
      if (params) return await route.handle({ req, res, path, params });
    }
    return send(res, 404, { error: `no route for ${req.method} ${path}` });
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    answer(req, res).catch((error: Error & { status?: number }) => sendError(res, error));
  };
}
