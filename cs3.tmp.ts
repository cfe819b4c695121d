import { writeFileSync } from "node:fs";
import { buildBundles } from "./test/bench/bundles.ts";
import { runChild } from "./test/bench/cold-start.ts";
import { startWorld } from "./test/bench/fixtures.ts";

const bundles = buildBundles();
const world = await startWorld();
writeFileSync(
  ".bench-tmp/sqs.json",
  JSON.stringify({
    Records: [
      {
        messageId: "m1",
        body: JSON.stringify({ to: "u@bench.example", subject: "s", text: "t" }),
        attributes: { ApproximateReceiveCount: "1" },
      },
    ],
  }),
);
console.log("sizes", bundles.product["send-notification"].bytes, bundles.obvious["send-notification"].bytes);
try {
  for (const kind of ["product", "obvious"] as const) {
    for (let i = 0; i < 4; i++) {
      const r = await runChild(bundles[kind]["send-notification"].path, ".bench-tmp/sqs.json", world.env);
      console.log(
        kind,
        "wall",
        r.wallMs.toFixed(0),
        "inproc",
        r.ms.toFixed(0),
        "import",
        (r as any).importMs.toFixed(0),
      );
    }
  }
} finally {
  await world.close();
}
