/**
 * 1. Cold start: a fresh Node process imports a bundle and serves its first invocation (settings
 * from moto_server, mail to a local SMTP server), timed from spawn to exit. Each function against
 * its obvious baseline and an empty handler, interleaved, medians.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FunctionName } from "../../infra/stack.ts";
import type { BenchBundles } from "./bundles.ts";
import type { BenchWorld } from "./fixtures.ts";
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
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(
      process.execPath,
      [...nodeArgs, CHILD, bundle, eventFile],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const wallMs = performance.now() - started;
        if (error) return reject(new Error(`child failed: ${error.message}\n${stderr}`));
        const last = stdout.trim().split("\n").pop() ?? "{}";
        resolve({ ...(JSON.parse(last) as Omit<ChildResult, "wallMs">), wallMs });
      },
    );
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
function invocationFor(name: FunctionName | "empty", world: BenchWorld, dir: string) {
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

export interface ColdStartRow {
  fn: FunctionName;
  productMs: number;
  obviousMs: number;
  emptyMs: number;
  productBytes: number;
  obviousBytes: number;
}

export async function measureColdStarts(
  bundles: BenchBundles,
  world: BenchWorld,
  rounds: number,
): Promise<ColdStartRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-events-"));
  // The product as deployed with SMTPServer in context (send-notification alone gets the
  // preconnect hint); the obvious baseline has no such tricks.
  const productEnv = (fn: FunctionName): Record<string, string> =>
    fn === "send-notification" ? { SMTP_PRECONNECT: `127.0.0.1:${world.smtp.port}` } : {};
  const timed =
    (bundle: string, name: FunctionName | "empty", extra: Record<string, string> = {}) =>
    async () => {
      const inv = invocationFor(name, world, dir);
      const r = await runChild(bundle, inv.file, { ...inv.env, ...extra });
      if (!inv.ok(r))
        throw new Error(`${name} (${bundle}) did not do its work: ${JSON.stringify(r).slice(0, 400)}`);
      return r.wallMs;
    };
  const rows: ColdStartRow[] = [];
  for (const fn of Object.keys(bundles.product) as FunctionName[]) {
    const s = await interleaved(
      {
        product: timed(bundles.product[fn].path, fn, productEnv(fn)),
        obvious: timed(bundles.obvious[fn].path, fn),
        empty: timed(bundles.empty.path, "empty"),
      },
      rounds,
    );
    rows.push({
      fn,
      productMs: median(s.product),
      obviousMs: median(s.obvious),
      emptyMs: median(s.empty),
      productBytes: bundles.product[fn].bytes,
      obviousBytes: bundles.obvious[fn].bytes,
    });
  }
  return rows;
}
