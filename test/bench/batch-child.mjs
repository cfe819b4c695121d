// Runs in a fresh Node process: one bundle serves `invocations` SQS batches of `batch` records,
// one after another as a single Lambda container does. Prints { ms, maxRssKb, failures }.
import { readFileSync } from "node:fs";
import { peakRssKb } from "./peak-rss.mjs";

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
process.stdout.write(`${JSON.stringify({ ms, maxRssKb: peakRssKb(), failures })}\n`);
process.exit(0);
