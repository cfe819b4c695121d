import { buildBundles } from "./test/bench/bundles.ts";
import { startWorld } from "./test/bench/fixtures.ts";
import { writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
const bundles = buildBundles();
const world = await startWorld();
writeFileSync(".bench-tmp/sqs.json", JSON.stringify({ Records: [{ messageId: "m1", body: JSON.stringify({ to: "u@bench.example", subject: "s", text: "t" }), attributes: { ApproximateReceiveCount: "1" } }] }));
try {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => {
      const s = performance.now();
      execFile(process.execPath, ["test/bench/invoke-child.mjs", bundles.product["send-notification"].path, ".bench-tmp/sqs.json"], { env: { ...world.env, BENCH_TRACE: "1", SMTP_PRECONNECT: `127.0.0.1:${world.smtp.port}` } }, (e, out, err) => {
        const r = JSON.parse(out.trim().split("\n").pop() ?? "{}");
        console.log("wall", (performance.now() - s).toFixed(0), "inproc", r.ms?.toFixed(0), "import", r.importMs?.toFixed(0), err.trim().split("\n").filter((l: string) => l.startsWith("trace")).join(" | "), r.error ?? "");
        resolve();
      });
    });
  }
} finally { await world.close(); }
