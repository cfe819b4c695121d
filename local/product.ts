/**
 * The whole product on one machine, with no AWS account: the three deployed handlers, unchanged,
 * behind a local HTTP server on 127.0.0.1 (its routes: local/api/), an in-process notification
 * queue with SQS's semantics (local/queue.ts), an embedded SMTP server that captures mail and can
 * play a provider's limits (local/mailbox.ts), and the console page. This file assembles them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHandler as connectionTestHandler } from "../functions/connection-test.ts";
import type { Env } from "../functions/environment.ts";
import { createHandler as securityAlertHandler } from "../functions/security-alert-check.ts";
import { createHandler as sendNotificationHandler } from "../functions/send-notification.ts";
import { sesApiFromEnv } from "../lib/aws-ses/index.ts";
import { memorySentStore } from "../lib/security-alerts/index.ts";
import {
  fileSettingsStore,
  loadEmailSettings,
  type SettingsStore,
  ssmSettingsStore,
} from "../lib/settings/index.ts";
import { consoleApi } from "./api/index.ts";
import { localStore, registrationsOf } from "./embedded-settings.ts";
import { localContext } from "./lambda.ts";
import { type Mailbox, type MailboxLimits, startMailbox } from "./mailbox.ts";
import { localLogLine, prettyLogLine } from "./pretty-log.ts";
import { createLocalQueue, type LocalQueue } from "./queue.ts";
import { LOCAL_ALERT_DEFAULTS, startSecurityFeed } from "./security-feed.ts";
import { type SesEndpoint, startSesEndpoint } from "./ses-endpoint.ts";
import { makeLocalTls } from "./tls.ts";
import { startTokenEndpoint, type TokenEndpoint } from "./token-endpoint.ts";

export { localContext } from "./lambda.ts";

export interface LocalProductOptions {
  /** HTTP port on 127.0.0.1. Default 0: a free one. */
  port?: number;
  /** Embedded SMTP port. Default 0: a free one. */
  smtpPort?: number;
  /** config.json-shaped settings file, used where SSM is not configured. Default ./local-settings.json. */
  settingsFile?: string;
  /** Default: process.env. */
  env?: Env;
  /** Local queue: how long a received record stays invisible. Default 30 s. */
  visibilityTimeoutMs?: number;
  /** Local queue: receives before the dead-letter list. Default RETRY_POLICY.receiveLimit. */
  maxReceiveCount?: number;
  /** Local queue: send-notification invocations at once. Default 2. */
  maxConcurrency?: number;
  /** Local queue: records per invocation. Default 10. */
  batchSize?: number;
  /** Local queue: the function's back-off delays are multiplied by this (0.1: ten times faster). Default 1. */
  delayScale?: number;
  /** The embedded SMTP server's provider limits. Default none. */
  smtpLimits?: Partial<MailboxLimits>;
  /** How often the security-alert check runs when SECURITY_FEED_URL is set. Default 1 hour. */
  alertIntervalMs?: number;
  /** Readable terminal lines. Default console.log. */
  log?: (line: string) => void;
}

export interface LocalProduct {
  url: string;
  mailbox: Mailbox;
  queue: LocalQueue;
  /** The embedded OAuth2 token endpoint, registering the local settings' own client. */
  tokenEndpoint: TokenEndpoint;
  /** The stand-in for Amazon SES's API (Transport ses), delivering into the mailbox. */
  sesEndpoint: SesEndpoint;
  /** The embedded SMTP server offers STARTTLS, signed by this run's CA (the functions trust it). */
  startTls: boolean;
  /** Where stored settings come from: "file …" or "SSM …", under the embedded SMTP server. */
  settingsSource: string;
  /** The stand-in bulletin feed the alert check reads, when SECURITY_FEED_URL does not name one. */
  securityFeed?: { url: string; appVersion: string };
  stop(): Promise<void>;
}

export async function startLocalProduct(options: LocalProductOptions = {}): Promise<LocalProduct> {
  const baseEnv = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const write = (line: string) => log(prettyLogLine(line));
  // Local edits to the settings file show within a second, not a minute.
  const env: Env = { ...baseEnv, SETTINGS_CACHE_SECONDS: baseEnv.SETTINGS_CACHE_SECONDS ?? "1" };

  const useSsm = Boolean(env.SETTINGS_PATH && (env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL));
  const settingsFile = useSsm ? undefined : (options.settingsFile ?? "local-settings.json");
  const stored =
    settingsFile === undefined ? ssmSettingsStore({ env }) : fileSettingsStore({ path: settingsFile });
  // The token endpoint registers what the settings sign in as; the settings point at it.
  let store: SettingsStore | undefined;
  const tokenEndpoint = await startTokenEndpoint({
    registrations: async () => {
      try {
        return registrationsOf((await loadEmailSettings({ env, store: store ?? stored })).values);
      } catch {
        return []; // invalid settings: the functions say why
      }
    },
  });
  const tls = makeLocalTls();
  const mailbox = await startMailbox({
    port: options.smtpPort ?? 0,
    limits: options.smtpLimits ?? {},
    ...(tls ? { tls } : {}),
    checkToken: tokenEndpoint.checkToken,
  });
  store = localStore(stored, mailbox.port, tokenEndpoint.tokenUrl());
  const sesEndpoint = await startSesEndpoint(mailbox);
  const localSes = sesApiFromEnv({
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SESV2: sesEndpoint.url,
  });
  // The functions trust the run's own CA, and send Transport ses to the stand-in.
  const smtp = { ...(tls ? { ca: tls.ca } : {}), ...(localSes ? { ses: () => localSes } : {}) };

  // The queue invokes send-notification, and send-notification controls the queue (retryLater,
  // deadLetter): the handler is made once the queue exists.
  const queue = createLocalQueue({
    handler: (event, context) => notify(event, context),
    context: () => localContext("send-notification"),
    ...(options.visibilityTimeoutMs !== undefined
      ? { visibilityTimeoutMs: options.visibilityTimeoutMs }
      : {}),
    ...(options.maxReceiveCount !== undefined ? { maxReceiveCount: options.maxReceiveCount } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.delayScale !== undefined ? { delayScale: options.delayScale } : {}),
    onDeadLetter: (l) =>
      log(
        localLogLine(
          "local-queue",
          `DEAD LETTER ${l.messageId} after ${l.receiveCount} receives: ${l.code}: ${l.reason}`,
        ),
      ),
    onInvocationError: (error) =>
      log(
        localLogLine(
          "local-queue",
          `INVOCATION FAILED (the batch returns after its visibility timeout): ${String(error)}`,
        ),
      ),
  });
  const notify = sendNotificationHandler({ env, store, write, queue, smtp });
  // The operator's own machine, and an embedded server on a port of the run's own: any port may be
  // tested here (the deployed endpoint allows the SMTP ones: docs/functions.md).
  const connectionTest = connectionTestHandler({
    env: { ...env, TEST_ALLOWED_PORTS: env.TEST_ALLOWED_PORTS ?? "*" },
    store,
    write,
    smtp,
  });
  // Without a feed of the operator's, the stand-in's sample bulletin, so a fresh run's alert check works.
  const feed = env.SECURITY_FEED_URL
    ? undefined
    : await startSecurityFeed(env.APP_VERSION ?? LOCAL_ALERT_DEFAULTS.APP_VERSION);
  const alertEnv: Env = feed
    ? {
        ...env,
        SECURITY_FEED_URL: feed.url,
        APP_VERSION: env.APP_VERSION ?? LOCAL_ALERT_DEFAULTS.APP_VERSION,
      }
    : env;
  const alerts = securityAlertHandler({ env: alertEnv, store, write, sentStore: memorySentStore(), smtp });
  mailbox.onMessage((m) =>
    log(
      localLogLine(
        "embedded-smtp",
        `captured  to=${m.to.join(",")} subject=${JSON.stringify(m.subject)}`,
        m.receivedAt,
      ),
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

  const server: Server = createServer(
    consoleApi({ env, store, settingsFile, mailbox, queue, connectionTest, runAlerts, log }),
  );
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
    tokenEndpoint,
    sesEndpoint,
    startTls: tls !== undefined,
    settingsSource: stored.description,
    ...(feed ? { securityFeed: { url: feed.url, appVersion: alertEnv.APP_VERSION as string } } : {}),
    async stop() {
      clearInterval(alertTimer);
      await queue.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mailbox.close();
      await tokenEndpoint.close();
      await sesEndpoint.close();
      await feed?.stop();
    },
  };
}
