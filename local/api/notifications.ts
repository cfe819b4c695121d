/**
 * The routes that give the functions work: POST /notifications (one notification onto the queue),
 * POST /notifications/burst (`count` test notifications at once) and POST /security-alerts/run.
 */
import { BadRequest, parseJsonObject, readBody, send, shown } from "../http.ts";
import { localLogLine } from "../pretty-log.ts";
import type { LocalQueue } from "../queue.ts";
import type { Route } from "./route.ts";

/** The most notifications one POST /notifications/burst queues. */
const MAX_BURST = 1000;

export interface NotificationRoutesDeps {
  queue: LocalQueue;
  /** One security-alert check, as its schedule would run it: the status and body to answer with. */
  runAlerts: () => Promise<{ status: number; body: unknown }>;
  log: (line: string) => void;
}

/** POST /notifications/burst: `count` test notifications to `to`. */
function parseBurst(body: string): { count: number; to: string; subject: string } {
  const json = parseJsonObject(body, '{"count": 100, "to": "you@example.com"}');
  const { count, to = "you@example.com", subject = "Burst test" } = json;
  for (const field of Object.keys(json)) {
    if (!["count", "to", "subject"].includes(field)) {
      throw new BadRequest(
        `unknown field ${JSON.stringify(field)}: the fields are count, to and subject`,
        field,
      );
    }
  }
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_BURST) {
    throw new BadRequest(`count must be a whole number from 1 to ${MAX_BURST}; got ${shown(count)}`, "count");
  }
  if (typeof to !== "string" || !/^[^\s@]+@[^\s@]+$/.test(to) || to.length > 254) {
    throw new BadRequest(`to must be one email address, such as you@example.com; got ${shown(to)}`, "to");
  }
  if (typeof subject !== "string" || subject.trim() === "" || subject.length > 200) {
    throw new BadRequest(`subject must be text of 1 to 200 characters; got ${shown(subject)}`, "subject");
  }
  return { count, to, subject };
}

export function notificationRoutes({ queue, runAlerts, log }: NotificationRoutesDeps): Route[] {
  return [
    {
      method: "POST",
      path: "/notifications",
      async handle({ req, res }) {
        const body = await readBody(req);
        return send(res, 202, { messageId: queue.send(body) });
      },
    },
    {
      method: "POST",
      path: "/notifications/burst",
      async handle({ req, res }) {
        const { count, to, subject } = parseBurst(await readBody(req));
        const at = new Date().toISOString();
        const messageIds = Array.from({ length: count }, (_, i) =>
          queue.send(
            JSON.stringify({
              to,
              subject: `${subject} ${i + 1}/${count}`,
              text: `Message ${i + 1} of ${count} in a burst queued at ${at}.`,
            }),
          ),
        );
        log(localLogLine("local-queue", `burst of ${count} queued to=${to}`));
        return send(res, 202, { count, messageIds });
      },
    },
    {
      method: "POST",
      path: "/security-alerts/run",
      async handle({ res }) {
        const { status, body } = await runAlerts();
        return send(res, status, body);
      },
    },
  ];
}
