/**
 * The whole product on one machine, with no AWS account: the three deployed handlers, unchanged,
 * behind a local HTTP server on 127.0.0.1, an in-process notification queue, an embedded SMTP
 * server that captures mail, and the console page.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { createHandler as connectionTestHandler } from "../functions/connection-test.ts";
import type { Env } from "../functions/environment.ts";
import { createHandler as securityAlertHandler } from "../functions/security-alert-check.ts";
import { createHandler as sendNotificationHandler } from "../functions/send-notification.ts";
import { memorySentStore } from "../lib/security-alerts/index.ts";
import {
  environmentVariableFor,
  fileSettingsStore,
  layeredStore,
  loadEmailSettings,
  redactSettings,
  SETTING_NAMES,
  type SettingsStore,
  ssmSettingsStore,
} from "../lib/settings/index.ts";
import { type Mailbox, startMailbox } from "./mailbox.ts";
import { prettyLogLine } from "./pretty-log.ts";
import { createLocalQueue, type LocalQueue } from "./queue.ts";

export interface LocalProductOptions {
  /** HTTP port on 127.0.0.1. Default 0: a free one. */
  port?: number;
  /** Embedded SMTP port. Default 0: a free one. */
  smtpPort?: number;
  /** config.json-shaped settings file, used where SSM is not configured. Default ./local-settings.json. */
  settingsFile?: string;
  /** Default: process.env. */
  env?: Env;
  /** Local queue: receives before the dead-letter list, and the delay before a retry. */
  maxReceiveCount?: number;
  retryDelayMs?: number;
  /** How often the security-alert check runs when SECURITY_FEED_URL is set. Default 1 hour. */
  alertIntervalMs?: number;
  /** Readable terminal lines. Default console.log. */
  log?: (line: string) => void;
}

export interface LocalProduct {
  url: string;
  mailbox: Mailbox;
  queue: LocalQueue;
  /** Where stored settings come from: "file …" or "SSM …", under the embedded SMTP server. */
  settingsSource: string;
  stop(): Promise<void>;
}

const CONSOLE_FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};
const MAX_BODY = 64 * 1024;

function localContext(functionName: string, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/local/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`body over ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // Captured HTML is shown in sandboxed srcdoc iframes: no script of its own may run.
    "content-security-policy":
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'",
  });
  res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

export async function startLocalProduct(options: LocalProductOptions = {}): Promise<LocalProduct> {
  const baseEnv = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const write = (line: string) => log(prettyLogLine(line));
  // Local edits to the settings file show within a second, not a minute.
  const env: Env = { ...baseEnv, SETTINGS_CACHE_SECONDS: baseEnv.SETTINGS_CACHE_SECONDS ?? "1" };

  const mailbox = await startMailbox({ port: options.smtpPort ?? 0 });
  const embedded: SettingsStore = {
    description: `embedded SMTP server 127.0.0.1:${mailbox.port}`,
    read: async () => ({
      layer: [
        {
          setting: "SMTPServer",
          value: "127.0.0.1",
          source: { layer: "local", name: "embedded SMTP server" },
        },
        {
          setting: "SMTPPort",
          value: mailbox.port,
          source: { layer: "local", name: "embedded SMTP server" },
        },
      ],
      warnings: [],
      others: {},
    }),
  };
  const useSsm = Boolean(env.SETTINGS_PATH && (env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL));
  const stored = useSsm
    ? ssmSettingsStore({ env })
    : fileSettingsStore({ path: options.settingsFile ?? "local-settings.json" });
  const store = layeredStore([embedded, stored]);

  const notify = sendNotificationHandler({ env, store, write });
  const connectionTest = connectionTestHandler({ env, store, write });
  const alerts = securityAlertHandler({ env, store, write, sentStore: memorySentStore() });

  const queue = createLocalQueue({
    handler: notify,
    context: () => localContext("send-notification"),
    maxReceiveCount: options.maxReceiveCount ?? 3,
    retryDelayMs: options.retryDelayMs ?? 2000,
    onDeadLetter: (l) =>
      log(
        `${new Date().toISOString().slice(11, 19)} local-queue          DEAD LETTER ${l.messageId} after ${l.receiveCount} receives`,
      ),
  });
  mailbox.onMessage((m) =>
    log(
      `${m.receivedAt.slice(11, 19)} embedded-smtp        captured  to=${m.to.join(",")} subject=${JSON.stringify(m.subject)}`,
    ),
  );

  const runAlerts = async () => {
    try {
      return {
        status: 200,
        body: await alerts({ source: "local" }, localContext("security-alert-check", 300_000)),
      };
    } catch (error) {
      return { status: 500, body: { error: (error as Error).message } };
    }
  };

  async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    if (req.method === "GET" && CONSOLE_FILES[path]) {
      const [file, type] = CONSOLE_FILES[path];
      return send(res, 200, await readFile(new URL(`console/${file}`, import.meta.url)), type);
    }
    if (req.method === "GET" && path === "/api/settings") {
      try {
        const loaded = await loadEmailSettings({ env, store });
        const redacted = redactSettings(loaded);
        const settings = Object.fromEntries(
          SETTING_NAMES.map((name) => [
            name,
            {
              ...redacted[name],
              variable: environmentVariableFor(name),
              readOnly: redacted[name].source.layer === "environment",
            },
          ]),
        );
        return send(res, 200, { settings, store: store.description, warnings: loaded.warnings });
      } catch (error) {
        return send(res, 500, { error: (error as Error).message });
      }
    }
    if (req.method === "POST" && path === "/email/test") {
      const body = await readBody(req);
      const event: APIGatewayProxyEventV2 = {
        version: "2.0",
        routeKey: "POST /email/test",
        rawPath: path,
        rawQueryString: "",
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        requestContext: {
          accountId: "local",
          apiId: "local",
          domainName: "127.0.0.1",
          domainPrefix: "local",
          http: {
            method: "POST",
            path,
            protocol: "HTTP/1.1",
            sourceIp: "127.0.0.1",
            userAgent: String(req.headers["user-agent"] ?? ""),
          },
          requestId: crypto.randomUUID(),
          routeKey: "POST /email/test",
          stage: "$default",
          time: new Date().toUTCString(),
          timeEpoch: Date.now(),
        },
        body,
        isBase64Encoded: false,
      };
      const result = await connectionTest(event, localContext("connection-test", 29_000));
      return send(
        res,
        result.statusCode ?? 200,
        result.body ?? "",
        String(result.headers?.["content-type"] ?? "application/json"),
      );
    }
    if (req.method === "POST" && path === "/notifications") {
      const body = await readBody(req);
      return send(res, 202, { messageId: queue.send(body) });
    }
    if (req.method === "POST" && path === "/security-alerts/run") {
      const { status, body } = await runAlerts();
      return send(res, status, body);
    }
    if (req.method === "GET" && path === "/api/mail") {
      return send(
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
      );
    }
    const mailMatch = /^\/api\/mail\/(\d+)$/.exec(path);
    if (req.method === "GET" && mailMatch) {
      const mail = mailbox.messages.find((m) => m.id === Number(mailMatch[1]));
      return mail ? send(res, 200, mail) : send(res, 404, { error: "no such message" });
    }
    if (req.method === "GET" && path === "/api/dead-letters") return send(res, 200, queue.deadLetters);
    return send(res, 404, { error: `no route for ${req.method} ${path}` });
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: Error & { status?: number }) => {
      if (!res.headersSent) send(res, error.status ?? 500, { error: error.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  const intervalMs = options.alertIntervalMs ?? 60 * 60_000;
  const alertTimer = env.SECURITY_FEED_URL ? setInterval(() => void runAlerts(), intervalMs) : undefined;
  alertTimer?.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    mailbox,
    queue,
    settingsSource: stored.description,
    async stop() {
      clearInterval(alertTimer);
      queue.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mailbox.close();
    },
  };
}
