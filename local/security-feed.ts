/**
 * A stand-in for the security bulletin feed, so `POST /security-alerts/run` works on a fresh
 * `npm start`: the feed's two routes (`/security`, the list; `/bulletins/<id>`, one bulletin's
 * HTML) with one sample bulletin for the local run's app version. The check mails it once to the
 * local recipients (the embedded SMTP server captures it) and, on later runs, never again, as
 * it does in AWS. Set SECURITY_FEED_URL to use a real feed instead. Loopback only.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loopbackRefusal } from "./loopback-only.ts";

/** What the local run's alert check reads, unless the environment says otherwise. */
export const LOCAL_ALERT_DEFAULTS = {
  /** The chat server version the sample bulletin applies to. */
  APP_VERSION: "10.5.1",
  /** Where the local run mails bulletins: the embedded SMTP server captures any address. */
  SECURITY_ALERT_RECIPIENTS: "admin@example.com",
} as const;

export const SAMPLE_BULLETIN_ID = "MMSA-LOCAL-0001";

export interface SecurityFeed {
  url: string;
  stop(): Promise<void>;
}

export async function startSecurityFeed(
  appVersion: string = LOCAL_ALERT_DEFAULTS.APP_VERSION,
): Promise<SecurityFeed> {
  const list = JSON.stringify([{ id: SAMPLE_BULLETIN_ID, applies_to_version: appVersion }]);
  const html = `<h1>Sample security bulletin ${SAMPLE_BULLETIN_ID}</h1><p>The local run's stand-in feed says version ${appVersion} needs an update. In AWS this mail comes from the real feed (SECURITY_FEED_URL).</p>`;
  const server: Server = createServer((req, res) => {
    const refused = loopbackRefusal(req);
    if (refused) return void res.writeHead(403, { "content-type": "text/plain" }).end(refused);
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "GET" && path === "/security")
      return void res.writeHead(200, { "content-type": "application/json" }).end(list);
    if (req.method === "GET" && path === `/bulletins/${SAMPLE_BULLETIN_ID}`)
      return void res.writeHead(200, { "content-type": "text/html" }).end(html);
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
