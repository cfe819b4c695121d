/**
 * `npm run load`: the load test. Runs scenarios a, b and c (or those in LOAD_SCENARIO, e.g. `c`
 * or `a,c`) against moto_server's SQS and SSM and a limited SMTP provider, all on 127.0.0.1,
 * prints the tables and writes docs/load-test.md.
 *
 * Overrides, for a shorter run (they are written into the report): LOAD_COUNT, LOAD_RATE,
 * LOAD_CONNECTIONS, LOAD_OUTAGE_SECONDS, LOAD_GIVE_UP_SECONDS, LOAD_SMTP_TIMEOUT (SMTPServerTimeout,
 * which also sizes the function's and the queue's timeouts), LOAD_CONCURRENCY (used only when
 * deriveSendLimits gives no maxConcurrency; default 2), LOAD_MOTO_FAST=0 (moto's SQS exactly as it
 * is, which paces a queue of 2,000 itself: moto-fast.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startMoto } from "../../helpers/moto.ts";
import { computeMetrics } from "./metrics.ts";
import { speedUpMotoSqs } from "./moto-fast.ts";
import { goalsTable, loadTestDoc, type ScenarioOutcome, scenarioDetails, summaryTable } from "./report.ts";
import { runScenario, type ScenarioSpec } from "./scenario.ts";
import { buildBundle } from "./world.ts";

const env = process.env;
const overrides: string[] = [];
const num = (name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  overrides.push(`${name}=${raw}`);
  return n;
};

const count = num("LOAD_COUNT");
const rate = num("LOAD_RATE");
const connections = num("LOAD_CONNECTIONS");
const outageSeconds = num("LOAD_OUTAGE_SECONDS");
const giveUpSeconds = num("LOAD_GIVE_UP_SECONDS");
const smtpTimeoutSeconds = num("LOAD_SMTP_TIMEOUT");
const concurrencyFallback = num("LOAD_CONCURRENCY");

function scenario(id: string, title: string, n: number, perSecond: number, conns: number, outage?: number) {
  const spec: ScenarioSpec = {
    id,
    title,
    count: count ?? n,
    ratePerSecond: rate ?? perSecond,
    maxConnections: connections ?? conns,
  };
  if (outage !== undefined) {
    // In the middle of the ideal send.
    spec.outage = { afterSeconds: spec.count / spec.ratePerSecond / 2, seconds: outageSeconds ?? outage };
  }
  return spec;
}

const SCENARIOS: ScenarioSpec[] = [
  scenario("a", "2,000 at 20/s, 4 connections", 2000, 20, 4),
  scenario("b", "as a, with a 5-minute outage", 2000, 20, 4, 300),
  scenario("c", "burst of 100 at 1/s (sandbox)", 100, 1, 2),
];

const wanted = (env.LOAD_SCENARIO ?? "a,b,c")
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
const chosen = SCENARIOS.filter((s) => wanted.includes(s.id));
if (chosen.length === 0)
  throw new Error(`LOAD_SCENARIO ${JSON.stringify(env.LOAD_SCENARIO)}: choose from a, b, c`);

const workDir = mkdtempSync(join(tmpdir(), "load-test-"));
console.log(`Building send-notification as deployed (bundleFunction) in ${workDir}…`);
const bundle = buildBundle(workDir);
const motoFast = env.LOAD_MOTO_FAST !== "0";
if (motoFast) speedUpMotoSqs(workDir);
else overrides.push("LOAD_MOTO_FAST=0");
console.log(`Starting moto_server${motoFast ? " (its SQS retention check made cheap: moto-fast.ts)" : ""}…`);
const moto = await startMoto();
const outcomes: ScenarioOutcome[] = [];
const failures: string[] = [];
try {
  for (const spec of chosen) {
    console.log(`\nScenario ${spec.id}: ${spec.title}`);
    try {
      const run = await runScenario(spec, {
        motoEndpoint: moto.endpoint,
        bundle,
        workDir,
        ...(giveUpSeconds ? { giveUpSeconds } : {}),
        ...(smtpTimeoutSeconds ? { smtpTimeoutSeconds } : {}),
        ...(concurrencyFallback ? { concurrencyFallback } : {}),
        log: (line) => console.log(line),
      });
      const outcome = { run, metrics: computeMetrics(run) };
      outcomes.push(outcome);
      console.log(scenarioDetails(outcome));
    } catch (error) {
      console.error(`Scenario ${spec.id} failed: ${(error as Error).stack ?? error}`);
      failures.push(`${spec.id}: ${(error as Error).message}`);
    }
  }
} finally {
  await moto.stop();
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
console.log(`\n${summaryTable(outcomes)}\n\n${goalsTable(outcomes)}`);
writeFileSync(
  new URL("../../../docs/load-test.md", import.meta.url),
  loadTestDoc({ outcomes, machine, overrides, failures, motoFast }),
);
console.log(`\nWrote docs/load-test.md (logs in ${workDir})`);
process.exit(failures.length ? 1 : 0);
