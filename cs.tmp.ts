import { buildBundles } from "./test/bench/bundles.ts";
import { measureColdStarts } from "./test/bench/cold-start.ts";
import { startWorld } from "./test/bench/fixtures.ts";

const bundles = buildBundles();
const world = await startWorld();
try {
  const rows = await measureColdStarts(bundles, world, 5);
  for (const r of rows)
    console.log(
      r.fn,
      r.productMs.toFixed(1),
      r.obviousMs.toFixed(1),
      r.emptyMs.toFixed(1),
      (r.productMs / r.obviousMs).toFixed(2),
      (r.productMs / r.emptyMs).toFixed(2),
    );
} finally {
  await world.close();
}
