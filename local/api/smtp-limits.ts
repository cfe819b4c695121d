/**
 * GET and POST /api/smtp-limits: the embedded SMTP server's provider limits (send rate, burst,
 * connections, outage), read, and changed field by field with each value checked.
 */

import { BadRequest, parseJsonObject, readBody, send, shown } from "../http.ts";
import type { Mailbox, MailboxLimits } from "../mailbox.ts";
import { localLogLine } from "../pretty-log.ts";
import type { Route } from "./route.ts";

export interface SmtpLimitsRoutesDeps {
  mailbox: Mailbox;
  log: (line: string) => void;
}

/** POST /api/smtp-limits: the limits named in the body, each checked; null lifts a limit. */
function parseSmtpLimits(body: string): Partial<MailboxLimits> {
  const json = parseJsonObject(body, '{"ratePerSecond": 2, "maxConnections": 2, "down": false}');
  const change: Partial<MailboxLimits> = {};
  for (const [field, value] of Object.entries(json)) {
    const limit = (ok: boolean, rule: string) => {
      if (value !== null && !ok)
        throw new BadRequest(`${field} must be ${rule}, or null for no limit; got ${shown(value)}`, field);
      return value as number | null;
    };
    const n = typeof value === "number" && Number.isFinite(value) ? value : Number.NaN;
    switch (field) {
      case "ratePerSecond":
        change.ratePerSecond = limit(
          n > 0 && n <= 10_000,
          "a number of messages a second above 0 and at most 10000",
        );
        break;
      case "burst":
        change.burst = limit(n >= 1 && n <= 100_000, "a number of messages from 1 to 100000");
        break;
      case "maxConnections":
        change.maxConnections = limit(
          Number.isInteger(n) && n >= 1 && n <= 1000,
          "a whole number of connections from 1 to 1000",
        );
        break;
      case "down":
        if (typeof value !== "boolean")
          throw new BadRequest(`down must be true or false; got ${shown(value)}`, field);
        change.down = value;
        break;
      default:
        throw new BadRequest(
          `unknown field ${JSON.stringify(field)}: the fields are ratePerSecond, burst, maxConnections and down`,
          field,
        );
    }
  }
  return change;
}

export function smtpLimitsRoutes({ mailbox, log }: SmtpLimitsRoutesDeps): Route[] {
  return [
    { method: "GET", path: "/api/smtp-limits", handle: ({ res }) => send(res, 200, mailbox.status()) },
    {
      method: "POST",
      path: "/api/smtp-limits",
      async handle({ req, res }) {
        const change = parseSmtpLimits(await readBody(req));
        const limits = mailbox.setLimits(change);
        log(localLogLine("embedded-smtp", `limits ${JSON.stringify(limits)}`));
        return send(res, 200, mailbox.status());
      },
    },
  ];
}
