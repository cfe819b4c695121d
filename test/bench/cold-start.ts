/**
 * 1. Cold start: a fresh Node process imports a bundle and serves its first invocation (settings
 * from moto_server, mail to a local SMTP server), timed from spawn to exit. Each function as
 * deployed (one file) against the same function code-split behind its entry, its obvious
 * baseline and an empty handler, interleaved, medians; optionally with a network round trip in front of SSM and
 * SMTP (latency-proxy.ts).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FunctionName } from "../../functions/create-function.ts";
import type { BenchBundles } from "./bundles.ts";
import type { CpuLimit } from "./cpu-share.ts";
import { type BenchWorld, submissionSettings } from "./fixtures.ts";
import { startLatencyProxy } from "./latency-proxy.ts";
import { interleaved, median } from "./stats.ts";

const CHILD = fileURLToPath(new URL("invoke-child.mjs", import.meta.url));

export interface ChildResult {
  ms: number;
  wallMs: number;
  result?: unknown;
  error?: string;
  maxRssKb: number;
}

export function runChild(
  bundle: string,
  eventFile: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  limit?: CpuLimit,
): Promise<ChildResult> {
  const [command, args] = limit
    ? limit.wrap(process.execPath, [...nodeArgs, CHILD, bundle, eventFile])
    : [process.execPath, [...nodeArgs, CHILD, bundle, eventFile]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(command, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const wallMs = performance.now() - started;
      if (error) return reject(new Error(`child failed: ${error.message}\n${stderr}`));
      const last = stdout.trim().split("\n").pop() ?? "{}";
      resolve({ ...(JSON.parse(last) as Omit<ChildResult, "wallMs">), wallMs });
    });
  });
}

let seq = 0;

/** POST /email/test with a test message, as API Gateway delivers it. */
export const testEndpointEvent = (body: unknown = { to: "admin@bench.example" }) => ({
  version: "2.0",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
  isBase64Encoded: false,
  requestContext: { http: { method: "POST" } },
});

/** The first invocation each function serves, and a check that it did the real work. */
export function invocationFor(name: FunctionName | "empty", world: BenchWorld, dir: string) {
  const file = join(dir, `${name}-${++seq}.json`);
  const env = { ...world.env };
  switch (name) {
    case "send-notification":
      writeFileSync(
        file,
        JSON.stringify({
          Records: [
            {
              messageId: `cold-${seq}`,
              body: JSON.stringify({
                to: "user@bench.example",
                subject: "Cold",
                html: "<p>Cold <b>start</b></p>",
              }),
              attributes: { ApproximateReceiveCount: "1" },
            },
          ],
        }),
      );
      return {
        file,
        env,
        ok: (r: ChildResult) =>
          (r.result as { batchItemFailures?: unknown[] })?.batchItemFailures?.length === 0,
      };
    case "security-alert-check": {
      // A bulletin of its own for every run, so every run does the whole job: feed, page, mail, marker.
      const version = `9.${seq}.0`;
      world.feed.bulletins.push({ id: `BENCH-${seq}`, applies_to_version: version });
      world.feed.html[`BENCH-${seq}`] = "<p>Upgrade.</p>";
      writeFileSync(file, JSON.stringify({ source: "aws.scheduler" }));
      return {
        file,
        env: { ...env, APP_VERSION: version },
        ok: (r: ChildResult) => (r.result as { sent?: unknown[] })?.sent?.length === 1,
      };
    }
    case "connection-test":
      writeFileSync(file, JSON.stringify(testEndpointEvent()));
      return {
        file,
        env,
        ok: (r: ChildResult) => {
          const res = r.result as { statusCode?: number; body?: string };
          return res?.statusCode === 200 && JSON.parse(res.body ?? "{}").ok === true;
        },
      };
    default:
      writeFileSync(file, "{}");
      return { file, env, ok: (r: ChildResult) => !r.error };
  }
}

/**
 * Which SMTP server the cold starts send through: `plain`, the world's server (no TLS, no AUTH);
 * `starttls-auth`, its submission server (STARTTLS with a verified certificate, AUTH PLAIN,
 * PIPELINING), for send-notification only.
 */
export type SmtpVariant = "plain" | "starttls-auth";

export interface ColdStartRow {
  fn: FunctionName;
  variant: SmtpVariant;
  /** The network round trip put in front of SSM and SMTP. */
  rttMs: number;
  productMs: number;
  /** The function code-split into a chunk the entry imports after starting the same I/O. */
  splitMs: number;
  obviousMs: number;
  emptyMs: number;
  productBytes: number;
  obviousBytes: number;
}

/**
 * The world as seen through a network with this round trip: SSM and SMTP behind latency proxies,
 * the settings under a root of their own that names the SMTP proxy's port.
 */
async function networkOf(world: BenchWorld, rttMs: number, variant: SmtpVariant) {
  const server = variant === "plain" ? world.smtp : world.submission;
  const settingsFor = (port: number) =>
    variant === "plain" ? { SMTPPort: String(port) } : submissionSettings(port);
  if (rttMs === 0) {
    const root = variant === "plain" ? world.root : world.tlsRoot;
    return { env: { ...world.env, SETTINGS_PATH: root }, smtpPort: server.port, close: async () => {} };
  }
  const ssmUrl = new URL(world.ssm.endpoint);
  const ssm = await startLatencyProxy({ host: ssmUrl.hostname, port: Number(ssmUrl.port) }, rttMs);
  const smtp = await startLatencyProxy({ host: "127.0.0.1", port: server.port }, rttMs);
  const root = await world.copySettings(`${variant}-rtt${rttMs}`, settingsFor(smtp.port));
  return {
    env: { ...world.env, SETTINGS_PATH: root, AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${ssm.port}` },
    smtpPort: smtp.port,
    close: async () => {
      await Promise.all([ssm.close(), smtp.close()]);
    },
  };
}

export async function measureColdStarts(
  bundles: BenchBundles,
  world: BenchWorld,
  rounds: number,
  rttMs = 0,
  variant: SmtpVariant = "plain",
): Promise<ColdStartRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-events-"));
  const net = await networkOf(world, rttMs, variant);
  const netWorld = { ...world, env: net.env };
  // The product as deployed with SMTPServer in context (send-notification alone gets the
  // preconnect hint); the obvious baseline has no such tricks.
  const productEnv = (fn: FunctionName): Record<string, string> =>
    fn === "send-notification" ? { SMTP_PRECONNECT: `127.0.0.1:${net.smtpPort}` } : {};
  const timed =
    (bundle: string, name: FunctionName | "empty", extra: Record<string, string> = {}) =>
    async () => {
      const inv = invocationFor(name, netWorld, dir);
      const r = await runChild(bundle, inv.file, { ...inv.env, ...extra });
      if (!inv.ok(r))
        throw new Error(`${name} (${bundle}) did not do its work: ${JSON.stringify(r).slice(0, 400)}`);
      return r.wallMs;
    };
  const rows: ColdStartRow[] = [];
  try {
    const fns =
      variant === "plain"
        ? (Object.keys(bundles.product) as FunctionName[])
        : (["send-notification"] as const);
    for (const fn of fns) {
      const s = await interleaved(
        {
          product: timed(bundles.product[fn].path, fn, productEnv(fn)),
          split: timed(bundles.split[fn].path, fn, productEnv(fn)),
          obvious: timed(bundles.obvious[fn].path, fn),
          empty: timed(bundles.empty.path, "empty"),
        },
        rounds,
      );
      rows.push({
        fn,
        variant,
        rttMs,
        productMs: median(s.product),
        splitMs: median(s.split),
        obviousMs: median(s.obvious),
        emptyMs: median(s.empty),
        productBytes: bundles.product[fn].bytes,
        obviousBytes: bundles.obvious[fn].bytes,
      });
    }
  } finally {
    await net.close();
  }
  return rows;
}

/**
 * The fewest round trips a first invocation of send-notification can spend on its critical path
 * against these servers, with the SMTP server known at deploy time (BENCHMARKS.md writes the
 * arithmetic out). The server's 100 ms greeting delay outlasts the settings' SSM read (2 round
 * trips: connect, then both GetParameters calls at once), so the read is hidden and the path is
 * the SMTP dialogue: connect and greeting 1, EHLO 1, then for STARTTLS+AUTH: STARTTLS 1, the TLS
 * 1.3 handshake 1, EHLO again 1, AUTH PLAIN 1; then MAIL FROM, RCPT TO and DATA pipelined 1, the
 * message and its final dot 1.
 */
export const ROUND_TRIP_FLOOR: Record<SmtpVariant, number> = { plain: 4, "starttls-auth": 8 };

/**
 * Round trips on the critical path, from the same run at 0 ms and at a round trip of R ms: the
 * time each added, divided by R (the CPU's share is the same at both, so it cancels).
 */
export function criticalRoundTrips(rows: readonly ColdStartRow[]) {
  const out: Array<{
    variant: SmtpVariant;
    rttMs: number;
    product: number;
    obvious: number;
    productAddedMs: number;
    obviousAddedMs: number;
  }> = [];
  for (const r of rows) {
    if (r.fn !== "send-notification" || r.rttMs === 0) continue;
    const base = rows.find((b) => b.fn === r.fn && b.variant === r.variant && b.rttMs === 0);
    if (!base) continue;
    const productAddedMs = r.productMs - base.productMs;
    const obviousAddedMs = r.obviousMs - base.obviousMs;
    out.push({
      variant: r.variant,
      rttMs: r.rttMs,
      product: productAddedMs / r.rttMs,
      obvious: obviousAddedMs / r.rttMs,
      productAddedMs,
      obviousAddedMs,
    });
  }
  return out;
}
