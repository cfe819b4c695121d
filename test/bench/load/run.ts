/**
 * `npm run load`: the load test. Runs every scenario of scenarios.ts (or those in LOAD_SCENARIO,
 * e.g. `c` or `a,d`) against moto_server's SQS, SSM and DynamoDB and a limited SMTP provider, all
 * on 127.0.0.1, prints the tables and writes docs/load-test.md.
 *
 * Overrides, for a shorter run (they are written into the report): LOAD_COUNT, LOAD_RATE,
 * LOAD_CONNECTIONS, LOAD_OUTAGE_SECONDS, LOAD_KILL_CHANCE, LOAD_REFUSAL_SECONDS,
 * LOAD_GIVE_UP_SECONDS, LOAD_SMTP_TIMEOUT (SMTPServerTimeout, which also sizes the function's and
 * the queue's timeouts), LOAD_CONCURRENCY (the most invocations at once when deriveSendLimits
 * gives no maxConcurrency; default one per batch queued), LOAD_MOTO_FAST=0 (moto's SQS receive
 * exactly as it is, which paces a queue of 2,000 itself; its deletes are made atomic either way:
 * moto-fast.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startMoto } from "../../helpers/moto.ts";
import { loadTestDoc } from "./doc.ts";
import { computeMetrics } from "./metrics.ts";
import { ATOMIC_SQS_DELETE, FAST_SQS_RECEIVE } from "./moto-fast.ts";
import { goalsTable, type ScenarioOutcome, scenarioDetails, summaryTable } from "./report.ts";
import { runScenario } from "./scenario.ts";
import { loadScenarios } from "./scenarios.ts";
import { buildBundle } from "./world.ts";

const env = process.env;
const overrides: string[] = [];
const num = (name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (name === "LOAD_KILL_CHANCE" && n > 1))
    throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  overrides.push(`${name}=${raw}`);
  return n;
};

const giveUpSeconds = num("LOAD_GIVE_UP_SECONDS");
const smtpTimeoutSeconds = num("LOAD_SMTP_TIMEOUT");
const concurrencyFallback = num("LOAD_CONCURRENCY");
const SCENARIOS = loadScenarios({
  count: num("LOAD_COUNT"),
  rate: num("LOAD_RATE"),
  connections: num("LOAD_CONNECTIONS"),
  outageSeconds: num("LOAD_OUTAGE_SECONDS"),
  killChance: num("LOAD_KILL_CHANCE"),
  refusalSeconds: num("LOAD_REFUSAL_SECONDS"),
});
const ids = SCENARIOS.map((s) => s.id);

const wanted = (env.LOAD_SCENARIO ?? ids.join(","))
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
const unknown = wanted.filter((id) => !ids.includes(id));
const chosen = SCENARIOS.filter((s) => wanted.includes(s.id));
if (chosen.length === 0 || unknown.length > 0)
  throw new Error(`LOAD_SCENARIO ${JSON.stringify(env.LOAD_SCENARIO)}: choose from ${ids.join(", ")}`);

const workDir = mkdtempSync(join(tmpdir(), "load-test-"));
console.log(`Building send-notification as deployed (bundleFunction) in ${workDir}…`);
const bundle = buildBundle(workDir);
const motoFast = env.LOAD_MOTO_FAST !== "0";
if (!motoFast) overrides.push("LOAD_MOTO_FAST=0");
console.log(`Starting moto_server${motoFast ? " (its SQS retention check made cheap: moto-fast.ts)" : ""}…`);
const moto = await startMoto({ patches: [ATOMIC_SQS_DELETE, ...(motoFast ? [FAST_SQS_RECEIVE] : [])] });
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
      // The raw record beside the containers' logs, for a second look.
      const { settings, startedAt, endedAt, accepted, refusals, kills, store, history } = run;
      const raw = { spec, settings, startedAt, endedAt, accepted, refusals, kills, store, history };
      writeFileSync(
        join(run.logDir, "run.json"),
        JSON.stringify(raw, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v)),
      );
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
  loadTestDoc({ outcomes, scenarios: SCENARIOS, machine, overrides, failures, motoFast }),
);
console.log(`\nWrote docs/load-test.md (logs in ${workDir})`);
process.exit(failures.length ? 1 : 0);
