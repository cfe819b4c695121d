/**
 * The Queue page's reads: GET /api/queue (the local queue's counts and config, its newest dead
 * letters, the embedded SMTP server's status) and GET /api/dead-letters (the whole list); and the
 * dead-letter list's changes: POST /api/dead-letters/redrive (`{"ids": [...]}`, or every letter
 * without ids: back on the queue as new messages) and DELETE /api/dead-letters (a purge).
 */
import { BadRequest, parseJsonObject, readBody, send } from "../http.ts";
import type { Mailbox } from "../mailbox.ts";
import { localLogLine } from "../pretty-log.ts";
import type { LocalQueue } from "../queue.ts";
import type { Route } from "./route.ts";

/** Dead letters /api/queue shows (the newest), each body cut to this many characters. */
const QUEUE_VIEW_DEAD_LETTERS = 50;
const QUEUE_VIEW_BODY_CHARS = 200;

export interface QueueRoutesDeps {
  queue: LocalQueue;
  mailbox: Mailbox;
  log: (line: string) => void;
}

/** POST /api/dead-letters/redrive: the ids, or undefined for every letter. */
function parseRedrive(body: string): string[] | undefined {
  const json = parseJsonObject(body.trim() === "" ? "{}" : body, '{"ids": ["4f6c2a9e-…"]}');
  for (const field of Object.keys(json)) {
    if (field !== "ids")
      throw new BadRequest(`unknown field ${JSON.stringify(field)}: the one field is ids`, field);
  }
  const { ids } = json;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string" && id !== ""))
    throw new BadRequest(
      "ids must be a non-empty list of dead-letter message ids (leave it out for all)",
      "ids",
    );
  return ids as string[];
}

export function queueRoutes({ queue, mailbox, log }: QueueRoutesDeps): Route[] {
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
    {
      method: "POST",
      path: "/api/dead-letters/redrive",
      async handle({ req, res }) {
        const result = queue.redriveDeadLetters(parseRedrive(await readBody(req)));
        for (const r of result.redriven)
          log(localLogLine("local-queue", `REDRIVEN ${r.messageId} as ${r.newMessageId}`));
        return send(res, 200, result);
      },
    },
    {
      method: "DELETE",
      path: "/api/dead-letters",
      handle({ res }) {
        const purged = queue.purgeDeadLetters();
        log(localLogLine("local-queue", `PURGED ${purged} dead letter(s)`));
        return send(res, 200, { purged });
      },
    },
  ];
}
