/**
 * 7. Where Lambda really runs: each function's first invocation, and a 10-record batch in a warm
 * container, at the CPU share each memory size gets (cpu-share.ts), with what 1,000 notifications
 * cost at Lambda's arm64 price. The functions' default memory is the cheapest size whose first
 * invocation stays under one second (infra/constructs/email-function.ts).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FUNCTION_NAMES, type FunctionName } from "../../functions/create-function.ts";
import { DEFAULT_MEMORY_MB } from "../../infra/constructs/email-function.ts";
import type { BenchBundles } from "./bundles.ts";
import { invocationFor, runChild } from "./cold-start.ts";
import { cpuLimit, cpuShareOf } from "./cpu-share.ts";
import type { BenchWorld } from "./fixtures.ts";
import { batchChild } from "./measures.ts";
import { median } from "./stats.ts";

export const MEMORY_SIZES = [128, 256, 512, 1024] as const;
/** Lambda's arm64 price in us-east-1: per GB-second of duration, and per request. */
export const PRICE = { gbSecond: 0.0000133334, request: 0.0000002 } as const;

export interface SizeRow {
  fn: FunctionName;
  memoryMb: number;
  cpuShare: number;
  firstInvocationMs: number;
  /** send-notification only: one 10-record batch in a warm container, and 1,000 notifications' cost. */
  batchMs?: number;
  costPer1000Usd?: number;
}

/** The cost of `batches` invocations of `ms` each at `memoryMb`. */
export const costUsd = (batches: number, ms: number, memoryMb: number) =>
  batches * ((Math.ceil(ms) / 1000) * (memoryMb / 1024) * PRICE.gbSecond + PRICE.request);

export async function measureLambdaSizes(
  bundles: BenchBundles,
  world: BenchWorld,
  rounds: number,
): Promise<SizeRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sizes-"));
  const rows: SizeRow[] = [];
  for (const memoryMb of MEMORY_SIZES) {
    const share = cpuShareOf(memoryMb);
    const limit = cpuLimit(share);
    try {
      for (const fn of FUNCTION_NAMES) {
        const samples: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const inv = invocationFor(fn, world, dir);
          const env =
            fn === "send-notification"
              ? { ...inv.env, SMTP_PRECONNECT: `127.0.0.1:${world.smtp.port}` }
              : inv.env;
          const result = await runChild(bundles.product[fn].path, inv.file, env, [], limit);
          if (!inv.ok(result))
            throw new Error(
              `${fn} at ${memoryMb} MB did not do its work: ${JSON.stringify(result).slice(0, 300)}`,
            );
          samples.push(result.wallMs);
        }
        const row: SizeRow = { fn, memoryMb, cpuShare: share, firstInvocationMs: median(samples) };
        if (fn === "send-notification") {
          // Six batches in one process, as a warm container serves them; the first includes init.
          const warm = await batchChild(bundles.product[fn].path, 6, 10, world.env, [], limit);
          if (warm.failures) throw new Error(`${warm.failures} notifications failed at ${memoryMb} MB`);
          row.batchMs = warm.ms / 6;
          row.costPer1000Usd = costUsd(100, row.batchMs, memoryMb);
        }
        rows.push(row);
        console.log(
          `  ${fn} at ${memoryMb} MB (${share.toFixed(2)} CPU): first invocation ${row.firstInvocationMs.toFixed(0)} ms${row.batchMs ? `, batch ${row.batchMs.toFixed(0)} ms` : ""}`,
        );
      }
    } finally {
      limit.close();
    }
  }
  return rows;
}

/** The table BENCHMARKS.md shows: each size, whether its first invocation was under a second, and the size deployed. */
export function lambdaSizesTable(rows: readonly SizeRow[]): string {
  const lines = [
    "| Function | Memory | CPU share | First invocation | Under 1 s | 10-record batch (warm) | Cost of 1,000 notifications | |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.fn} | ${r.memoryMb} MB | ${r.cpuShare.toFixed(2)} | ${r.firstInvocationMs.toFixed(0)} ms | ${r.firstInvocationMs < 1000 ? "yes" : "no"} | ${r.batchMs === undefined ? "" : `${r.batchMs.toFixed(0)} ms`} | ${r.costPer1000Usd === undefined ? "" : `$${r.costPer1000Usd.toFixed(5)}`} | ${r.memoryMb === DEFAULT_MEMORY_MB ? "**deployed**" : ""} |`,
    ),
  ];
  return lines.join("\n");
}
