/** The captured-mail routes: GET /api/mail (a summary of each message) and GET /api/mail/:id (one, whole). */
import { send } from "../http.ts";
import type { Mailbox } from "../mailbox.ts";
import type { Route } from "./route.ts";

export function mailRoutes(mailbox: Mailbox): Route[] {
  return [
    {
      method: "GET",
      path: "/api/mail",
      handle: ({ res }) =>
        send(
          res,
          200,
          mailbox.messages.map(({ id, receivedAt, from, to, subject, size }) => ({
            id,
            receivedAt,
            from,
            to,
            subject,
            size,
          })),
        ),
    },
    {
      method: "GET",
      path: /^\/api\/mail\/(\d+)$/,
      handle({ res, params: [id] }) {
        const mail = mailbox.messages.find((m) => m.id === Number(id));
        return mail ? send(res, 200, mail) : send(res, 404, { error: "no such message" });
      },
    },
  ];
}
