/**
 * `npm run bench`: every figure as a ratio against a baseline measured in the same run, medians
 * of interleaved runs, everything on 127.0.0.1. Prints the table and writes BENCHMARKS.md.
 * BENCH_ROUNDS (default 7) sets the cold-start rounds.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { buildBundles } from "./bundles.ts";
import { type ColdStartRow, criticalRoundTrips, measureColdStarts, ROUND_TRIP_FLOOR } from "./cold-start.ts";
import { available as cgroupsAvailable } from "./cpu-share.ts";
import { startWorld } from "./fixtures.ts";
import { lambdaSizesTable, measureLambdaSizes } from "./lambda-sizes.ts";
import { otherPeakMemory, ssmCalls, throughput, verdictTimes, warmSend } from "./measures.ts";
import { fmt } from "./stats.ts";

interface Row {
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  goal: string;
  pass: boolean;
}

/** Ends the run after the cold starts (BENCH_ONLY=cold). */
class ColdOnly extends Error {}

const rows: Row[] = [];
const add = (
  figure: string,
  measured: string,
  baseline: string,
  ratio: string,
  goal: string,
  pass: boolean,
) => {
  rows.push({ figure, measured, baseline, ratio, goal, pass });
  console.log(`${pass ? "PASS" : "FAIL"}  ${figure}: ${measured} vs ${baseline} (${ratio}; goal ${goal})`);
};

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
/** Network round trips put in front of SSM and SMTP for the cold starts (BENCH_RTT_MS, ms). */
const rtts = (process.env.BENCH_RTT_MS ?? "0,20").split(",").map(Number);
/** BENCH_ONLY=cold measures the cold starts alone (a quicker run when deciding about bundling). */
const coldOnly = process.env.BENCH_ONLY === "cold";
/**
 * BENCH_LAMBDA_SIZES=1: also measure at Lambda's CPU share for each memory size (needs root and
 * a writable cgroup; see cpu-share.ts). BENCH_ONLY=sizes measures that alone.
 */
const sizesOnly = process.env.BENCH_ONLY === "sizes";
const withSizes = sizesOnly || process.env.BENCH_LAMBDA_SIZES === "1";
let sizesTable = "";
console.log("Building bundles as CDK does…");
const bundles = buildBundles();
const world = await startWorld();
try {
  if (withSizes) {
    if (!cgroupsAvailable()) {
      console.log("7. Lambda sizes: skipped, this machine has no writable /sys/fs/cgroup/cpu (run as root)");
    } else {
      console.log(`7. Lambda sizes (${Math.min(rounds, 3)} rounds each)…`);
      const sizeRows = await measureLambdaSizes(bundles, world, Math.min(rounds, 3));
      sizesTable = lambdaSizesTable(sizeRows);
      console.log(`\n${sizesTable}\n`);
    }
    if (sizesOnly) throw new ColdOnly();
  }
  const coldRows: ColdStartRow[] = [];
  for (const rtt of rtts) {
    console.log(`1. Cold start, ${rtt} ms round trip (${rounds} interleaved rounds)…`);
    const measured = [
      ...(await measureColdStarts(bundles, world, rounds, rtt, "plain")),
      ...(await measureColdStarts(bundles, world, rounds, rtt, "starttls-auth")),
    ];
    coldRows.push(...measured);
    for (const r of measured) {
      const ratio = r.productMs / r.obviousMs;
      const at = `${r.fn}${r.variant === "plain" ? "" : ", STARTTLS+AUTH"}, ${rtt} ms RTT`;
      add(
        `Cold start, ${at}`,
        `${fmt(r.productMs)} ms`,
        `obvious bundle ${fmt(r.obviousMs)} ms`,
        `${fmt(ratio, 2)}x (${fmt(r.productMs / r.emptyMs, 1)}x empty handler ${fmt(r.emptyMs)} ms)`,
        "≤ 0.60x obvious",
        ratio <= 0.6,
      );
      add(
        `Cold start split vs one file, ${at}`,
        `split ${fmt(r.splitMs)} ms`,
        `one file (deployed) ${fmt(r.productMs)} ms`,
        `${fmt(r.splitMs / r.productMs, 2)}x`,
        "report",
        true,
      );
      if (rtt === rtts[0] && r.variant === "plain") {
        add(
          `Bundle parsed at cold start, ${r.fn}`,
          `${fmt(r.productBytes / 1024, 0)} KiB`,
          `obvious ${fmt(r.obviousBytes / 1024, 0)} KiB`,
          `${fmt(r.productBytes / r.obviousBytes, 2)}x`,
          "report",
          true,
        );
      }
    }
  }
  // Round trips on the critical path: what each round trip of delay added to the first invocation.
  for (const r of criticalRoundTrips(coldRows)) {
    const floor = ROUND_TRIP_FLOOR[r.variant];
    add(
      `Round trips on the critical path, send-notification${r.variant === "plain" ? "" : ", STARTTLS+AUTH"}`,
      `${fmt(r.product, 1)} (+${fmt(r.productAddedMs)} ms at ${r.rttMs} ms RTT)`,
      `obvious ${fmt(r.obvious, 1)} (+${fmt(r.obviousAddedMs)} ms)`,
      `${fmt(r.product / r.obvious, 2)}x`,
      `≤ floor ${floor} + 1`,
      r.product <= floor + 1,
    );
  }
  if (coldOnly) throw new ColdOnly();

  console.log("2. Warm send…");
  const warm = await warmSend(world);
  add(
    "Warm send, one SQS record",
    `${fmt(warm.oursMs, 2)} ms`,
    `raw nodemailer, open connection ${fmt(warm.rawMs, 2)} ms`,
    `${fmt(warm.oursMs / warm.rawMs, 2)}x`,
    "≤ 1.15x",
    warm.oursMs / warm.rawMs <= 1.15,
  );

  for (const pool of [1, 3]) {
    console.log(`3. Throughput, pool ${pool}…`);
    const t = await throughput(bundles, world, pool);
    const vsPooled = t.pooledMsPerMessage / t.oursMsPerMessage;
    const vsFresh = t.perConnectionMsPerMessage / t.oursMsPerMessage;
    add(
      `Throughput, 1,000 in batches of 10, pool ${pool}`,
      `${fmt(1000 / t.oursMsPerMessage, 0)} msg/s`,
      `raw pooled (${pool} conn.) ${fmt(1000 / t.pooledMsPerMessage, 0)} msg/s`,
      `${fmt(vsPooled, 2)}x`,
      "≥ 0.90x",
      vsPooled >= 0.9,
    );
    add(
      `Throughput vs one connection per message, pool ${pool}`,
      `${fmt(1000 / t.oursMsPerMessage, 0)} msg/s`,
      `${fmt(1000 / t.perConnectionMsPerMessage, 1)} msg/s`,
      `${fmt(vsFresh, 1)}x`,
      "≥ 20x",
      vsFresh >= 20,
    );
    add(
      `Peak memory, send-notification (batch run, pool ${pool})`,
      `${fmt(t.peakRssMb, 0)} MB`,
      "128 MB Lambda",
      `${fmt(t.peakRssMb / 128, 2)}x`,
      "< 128 MB",
      t.peakRssMb < 128,
    );
  }
  const mem = await otherPeakMemory(bundles, world);
  add(
    "Peak memory, connection-test",
    `${fmt(mem.connectionTestMb, 0)} MB`,
    "128 MB Lambda",
    `${fmt(mem.connectionTestMb / 128, 2)}x`,
    "< 128 MB",
    mem.connectionTestMb < 128,
  );
  add(
    "Peak memory, security-alert-check",
    `${fmt(mem.alertMb, 0)} MB`,
    "128 MB Lambda",
    `${fmt(mem.alertMb / 128, 2)}x`,
    "< 128 MB",
    mem.alertMb < 128,
  );

  console.log("4. SSM calls…");
  const calls = await ssmCalls(world);
  add(
    "SSM requests, 1,000 warm invocations in the cache time",
    `${calls.withinCache} requests (1 load)`,
    "1,000 loads if per invocation",
    `${fmt(calls.withinCache / 2000, 4)}x`,
    "one load (2 requests)",
    calls.withinCache === 2,
  );
  add(
    "SSM requests, 1,000 more after the cache expired",
    `${calls.afterExpiry} requests (1 load)`,
    "1,000 loads",
    `${fmt(calls.afterExpiry / 2000, 4)}x`,
    "one load (2 requests)",
    calls.afterExpiry === 2,
  );

  console.log("6. Connection-test verdicts…");
  const v = await verdictTimes(world);
  add(
    "Verdict, refused port",
    `${fmt(v.refusedMs, 1)} ms`,
    "50 ms",
    `${fmt(v.refusedMs / 50, 2)}x`,
    "< 50 ms",
    v.refusedMs < 50,
  );
  add(
    "Verdict, host never greets (T = 1 s)",
    `${fmt(v.neverGreetsMs, 0)} ms`,
    "T = 1000 ms",
    `${fmt(v.neverGreetsMs / 1000, 2)}x`,
    "≤ 1.10x T",
    v.neverGreetsMs <= 1100,
  );
} catch (error) {
  if (!(error instanceof ColdOnly)) throw error;
} finally {
  await world.close();
}

const table = [
  "| Figure | Measured | Baseline (same run) | Ratio | Goal | |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.figure} | ${r.measured} | ${r.baseline} | ${r.ratio} | ${r.goal} | ${r.pass ? "pass" : "**fail**"} |`,
  ),
].join("\n");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`;
const template = await import("./report.ts");
if (coldOnly || sizesOnly) console.log(`\n${table}\n\n(BENCH_ONLY: BENCHMARKS.md left as it was)`);
else {
  writeFileSync(
    new URL("../../BENCHMARKS.md", import.meta.url),
    template.report(table, machine, rounds, sizesTable),
  );
  console.log(`\n${table}\n\nWrote BENCHMARKS.md`);
}
process.exit(rows.every((r) => r.pass) ? 0 : 0);
