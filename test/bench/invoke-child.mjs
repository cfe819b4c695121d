// Runs in a fresh Node process: import one bundle, serve one invocation, report.
// argv: <bundle path> <event JSON file>. Prints one JSON line: { ms, result?, error?, maxRssKb }.
import { readFileSync } from "node:fs";
import { peakRssKb } from "./peak-rss.mjs";

const started = performance.now();
const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, "utf8"));
const mod = await import(bundle);
const imported = performance.now();
const context = {
  awsRequestId: "bench",
  functionName: "bench",
  getRemainingTimeInMillis: () => 60_000,
};
let result;
let error;
try {
  result = await mod.handler(event, context);
} catch (e) {
  error = String(e?.message ?? e);
}
// Lambda's runtime answers as soon as the handler's promise settles, whatever else the event loop
// holds (kept-alive SSM and SMTP connections, here): so does this process.
process.stdout.write(
  `${JSON.stringify({ ms: performance.now() - started, importMs: imported - started, result, error, maxRssKb: peakRssKb() })}\n`,
);
process.exit(0);
