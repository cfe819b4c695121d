// Runs in a fresh Node process: one bundle serves `invocations` SQS batches of `batch` records,
// one after another as a single Lambda container does. Prints { ms, maxRssKb, failures }.
import { readFileSync } from "node:fs";

// Peak resident memory of this process, sampled: getrusage's maxRSS would do, but on Linux it
// keeps the parent's size from before exec, so a big benchmark runner would show through.
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 2);
sampler.unref();
const peakRssKb = () => Math.max(peakRss, process.memoryUsage.rss()) / 1024;

const [bundle, invocations, batch] = process.argv.slice(2);
const mod = await import(bundle);
const body = readFileSync(0, "utf8");
const context = { awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 900_000 };
let failures = 0;
let n = 0;
const started = performance.now();
for (let i = 0; i < Number(invocations); i++) {
  const Records = Array.from({ length: Number(batch) }, () => ({
    messageId: `b-${++n}`,
    body,
    attributes: { ApproximateReceiveCount: "1" },
  }));
  const result = await mod.handler({ Records }, context);
  failures += result.batchItemFailures.length;
}
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ ms, maxRssKb: peakRssKb(), failures, ...(process.env.BENCH_MEMORY_DETAIL ? { usage: process.memoryUsage() } : {}) })}\n`,
);
process.exit(0);
