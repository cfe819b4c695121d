/**
 * The Queue page's reads: GET /api/queue (the local queue's counts and config, its newest dead
 * letters, the embedded SMTP server's status) and GET /api/dead-letters (the whole list).
 */
import { send } from "../http.ts";
import type { Mailbox } from "../mailbox.ts";
import type { LocalQueue } from "../queue.ts";
import type { Route } from "./route.ts";

/** Dead letters /api/queue shows (the newest), each body cut to this many characters. */
const QUEUE_VIEW_DEAD_LETTERS = 50;
const QUEUE_VIEW_BODY_CHARS = 200;

export interface QueueRoutesDeps {
  queue: LocalQueue;
  mailbox: Mailbox;
}

export function queueRoutes({ queue, mailbox }: QueueRoutesDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/api/queue",
      handle({ res }) {
        const stats = queue.stats();
        const now = Date.now();
        return send(res, 200, {
          queue: {
            ...stats,
            soonestReturnAt:
              stats.soonestReturnAt === null ? null : new Date(stats.soonestReturnAt).toISOString(),
            soonestReturnInMs:
              stats.soonestReturnAt === null ? null : Math.max(0, stats.soonestReturnAt - now),
          },
          config: queue.config,
          deadLetters: queue.deadLetters
            .slice(0, QUEUE_VIEW_DEAD_LETTERS)
            .map((d) => ({ ...d, body: d.body.slice(0, QUEUE_VIEW_BODY_CHARS) })),
          smtp: mailbox.status(),
        });
      },
    },
    { method: "GET", path: "/api/dead-letters", handle: ({ res }) => send(res, 200, queue.deadLetters) },
  ];
}
