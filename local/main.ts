/**
 * `npm start`: the whole product on this machine, no AWS account needed. Its options are in HELP
 * below (`npm start -- --help`) and in docs/local-run.md. MM_EMAILSETTINGS_* variables override
 * settings as in AWS; SETTINGS_PATH with an SSM endpoint (AWS_ENDPOINT_URL_SSM) reads real SSM
 * instead of the file.
 */
import { parseArgs } from "node:util";
import { RETRY_POLICY } from "../lib/notifications/backoff.ts";
import { startLocalProduct } from "./product.ts";

const usage =
  "usage: npm start -- [--port N] [--smtp-port N] [--settings FILE] [--smtp-rate N] [--smtp-burst N] [--smtp-connections N] [--delay-scale F] [--visibility-timeout S] [--max-receive-count N] [--max-concurrency N]\n(npm start -- --help says what each does; docs/local-run.md says more)";
const HELP = `usage: npm start -- [options]
  --port N                 console and API port (default 3025; 0 for any free port)
  --smtp-port N            embedded SMTP server port (default: any free port)
  --settings FILE          config.json-shaped settings file (default ./local-settings.json)
  --smtp-rate N            the embedded server accepts N messages a second (default: no limit)
  --smtp-burst N           ... and at most N at once after a quiet spell (default: one second's worth)
  --smtp-connections N     the embedded server allows N connections at once (default: no limit)
  --delay-scale F          the function's back-off delays are multiplied by F, 0 < F <= 1 (default 1)
  --visibility-timeout S   seconds a received record stays invisible (default 30)
  --max-receive-count N    receives before the dead-letter list (default ${RETRY_POLICY.receiveLimit}, as deployed)
  --max-concurrency N      send-notification invocations at once (default 2)
Example: npm start -- --smtp-rate 2 --smtp-connections 2 --delay-scale 0.1`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "3025" },
      "smtp-port": { type: "string", default: "0" },
      settings: { type: "string", default: "local-settings.json" },
      "smtp-rate": { type: "string" },
      "smtp-burst": { type: "string" },
      "smtp-connections": { type: "string" },
      "delay-scale": { type: "string" },
      "visibility-timeout": { type: "string" },
      "max-receive-count": { type: "string" },
      "max-concurrency": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

/** The flag's number, or undefined when it is not given; `rule` says what is allowed. */
function numberFlag(name: string, rule: string, ok: (n: number) => boolean): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw === "boolean") return undefined;
  const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!ok(n)) fail(`--${name} must be ${rule}, got ${JSON.stringify(raw)}`);
  return n;
}
const port = (name: string) =>
  numberFlag(name, "a port number from 0 to 65535", (n) => Number.isInteger(n) && n <= 65535) as number;
const whole = (name: string, min: number, max: number, what: string) =>
  numberFlag(
    name,
    `a whole number of ${what} from ${min} to ${max}`,
    (n) => Number.isInteger(n) && n >= min && n <= max,
  );

const smtpRate = numberFlag(
  "smtp-rate",
  "a number of messages a second above 0 (such as 2 or 0.5)",
  (n) => n > 0 && n <= 10_000,
);
const smtpBurst = numberFlag(
  "smtp-burst",
  "a number of messages from 1 to 100000",
  (n) => n >= 1 && n <= 100_000,
);
const smtpConnections = whole("smtp-connections", 1, 1000, "connections");
const delayScale = numberFlag(
  "delay-scale",
  "a number above 0 and at most 1 (such as 0.1)",
  (n) => n > 0 && n <= 1,
);
const visibilityTimeout = numberFlag(
  "visibility-timeout",
  "a number of seconds above 0 and at most 43200",
  (n) => n > 0 && n <= 43_200,
);
const maxReceiveCount = whole("max-receive-count", 1, 1000, "receives");
const maxConcurrency = whole("max-concurrency", 1, 100, "invocations");
if (smtpBurst !== undefined && smtpRate === undefined) fail("--smtp-burst needs --smtp-rate");

/** A port another process holds: one line saying so, not Node's stack trace. */
function portInUse(error: unknown): never {
  const e = error as NodeJS.ErrnoException & { port?: number };
  console.error(
    `Port ${e.port} on 127.0.0.1 is in use (another npm start?): stop that one, or run npm start -- --port 0 for any free port (--smtp-port too, when it is the SMTP port)`,
  );
  process.exit(1);
}

const product = await startLocalProduct({
  port: port("port"),
  smtpPort: port("smtp-port"),
  settingsFile: typeof values.settings === "string" ? values.settings : "local-settings.json",
  smtpLimits: {
    ratePerSecond: smtpRate ?? null,
    burst: smtpBurst ?? null,
    maxConnections: smtpConnections ?? null,
  },
  ...(delayScale !== undefined ? { delayScale } : {}),
  ...(visibilityTimeout !== undefined ? { visibilityTimeoutMs: visibilityTimeout * 1000 } : {}),
  ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
  ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
}).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") portInUse(error);
  throw error;
});

const { config } = product.queue;
const { limits } = product.mailbox.status();
const smtpLimitsLine = [
  limits.ratePerSecond === null
    ? "no rate limit"
    : `${limits.ratePerSecond} messages/s (burst ${limits.burst ?? Math.max(1, limits.ratePerSecond)})`,
  limits.maxConnections === null ? "no connection limit" : `${limits.maxConnections} connections`,
].join(", ");

console.log(`
Mattermost email, running locally

  Console             ${product.url}/            (SMTP settings, Test Connection, queue, captured mail)
  Test connection     POST ${product.url}/email/test
  Send notification   POST ${product.url}/notifications
  Send a burst        POST ${product.url}/notifications/burst   {"count": 100, "to": "you@example.com"}
  Security alerts     POST ${product.url}/security-alerts/run${
    product.securityFeed
      ? `   (a stand-in feed with one sample bulletin for ${product.securityFeed.appVersion}, mailed once; SECURITY_FEED_URL for a real feed)`
      : "   (and hourly)"
  }
  Embedded SMTP       127.0.0.1:${product.mailbox.port}   (captures every message; used unless settings point elsewhere)
                      ${product.startTls ? "STARTTLS and AUTH (any password; XOAUTH2 tokens of the token endpoint below)" : "plain SMTP only: openssl was not found, so no STARTTLS, no AUTH"}
                      limits: ${smtpLimitsLine}; change them on the console's Queue page
  OAuth2 tokens       ${product.tokenEndpoint.tokenUrl()}   (answers as Microsoft's and Google's do, for the settings' own client)
  Amazon SES API      ${product.sesEndpoint.url}   (a stand-in: Transport ses delivers into the embedded SMTP server's mail)
  Queue               visibility timeout ${config.visibilityTimeoutMs / 1000} s, dead letter after ${config.maxReceiveCount} receives${config.maxReceiveCount === RETRY_POLICY.receiveLimit ? " (as deployed)" : ""}, up to ${config.maxConcurrency} batches of ${config.batchSize} at once, back-off delays x${config.delayScale}
  Settings            defaults < embedded servers < ${product.settingsSource} < MM_EMAILSETTINGS_* and MM_EMAILTRANSPORTSETTINGS_* environment

Try:  curl -s -XPOST ${product.url}/notifications -H 'content-type: application/json' -d '{"to":"you@example.com","subject":"Hello","text":"It works"}'
Ctrl-C stops.
`);

const stop = async () => {
  await product.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
