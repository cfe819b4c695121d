/**
 * 10. Metrics in EMF: lib/metrics (hand-written, emf.ts and publisher.ts) against Powertools for
 * AWS Lambda's Metrics (issue 20). Two Lambda-like entries (metrics-emf/), bundled by
 * infra/bundling.ts's bundleFile with the functions' esbuild options, publish one notification
 * batch's metrics (the names, dimension set and property send-notification publishes: 7 counts,
 * 3 latency lists); an empty handler, bundled alike, is the floor. Each cold start is a fresh Node process
 * (invoke-child.mjs: import the bundle, call the handler once), timed from spawn to the EMF line
 * on its stdout (the empty handler: to its answer), interleaved, medians; on the full CPU and, where
 * this machine has writable cgroups, at the deployed memory's CPU share. Both lines are read as
 * CloudWatch would (test/helpers/emf.ts) and must give the same datapoints and Transport. No network.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { bundleFile } from "../../infra/bundling.ts";
import { DEFAULT_MEMORY_MB } from "../../infra/constructs/email-function.ts";
import { METRIC_DIMENSIONS } from "../../lib/metrics/index.ts";
import { readEmfLine } from "../helpers/emf.ts";
import { type CpuLimit, available as cgroupsAvailable, cpuLimit, cpuShareOf } from "./cpu-share.ts";
import { interleaved, median } from "./stats.ts";

const CHILD = fileURLToPath(new URL("invoke-child.mjs", import.meta.url));
const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const FUNCTION_NAME = "mm-email-SendNotification-bench";

type Variant = "handWritten" | "powertools" | "empty";

interface EmfBundle {
  path: string;
  /** index.mjs: what a cold start parses (no chunks: nothing here is imported lazily). */
  bytes: number;
}

export interface MetricsEmfRow {
  /** "full": the machine's CPU; else the CPU share of that memory size. */
  cpu: "full" | number;
  rounds: number;
  handWrittenMs: number;
  powertoolsMs: number;
  emptyMs: number;
  /**
   * Powertools less hand-written, over the rounds' differences (each round runs both, one after
   * the other): the median, and the mean. At a CPU share the mean is the figure: the share is
   * granted per 100 ms period, so a few ms more CPU either still fit in a period or wait for the
   * next (about 70 ms at 512 MB), and the median of such samples hides how often they wait.
   */
  powertoolsAddedMs: number;
  powertoolsAddedMeanMs: number;
  handWrittenAboveEmptyMs: number;
  powertoolsAboveEmptyMs: number;
  /**
   * Inside the process (invoke-child.mjs's own clock, from its first statement to the handler's
   * answer: the bundle's import and the first publish, without Node's start), medians.
   */
  inProcess: Record<Variant, number>;
  /** Powertools less hand-written inside the process, over the rounds' differences. */
  inProcessAddedMs: number;
  inProcessAddedMeanMs: number;
}

export interface MetricsEmfResult {
  rows: MetricsEmfRow[];
  bytes: Record<Variant, number>;
  /** Datapoints CloudWatch would store from each line (one per metric and dimension set). */
  datapoints: number;
  /** Whether both lines give the same namespace, metrics, units, dimensions and values. */
  same: boolean;
  difference?: string;
}

function build(name: string, file: string, root: string): EmfBundle {
  const dir = join(root, name);
  const meta: Metafile = bundleFile(entry(file), dir);
  const out = Object.entries(meta.outputs).find(([f]) => f.endsWith("index.mjs"));
  if (!out) throw new Error(`no index.mjs for ${name}`);
  return { path: join(dir, "index.mjs"), bytes: out[1].bytes };
}

/** A fresh process: spawn, import, one invocation; ms from spawn to the first stdout line `until` matches. */
function coldStart(bundle: string, eventFile: string, until: string, limit?: CpuLimit) {
  const env = {
    PATH: process.env.PATH ?? "",
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    AWS_REGION: "us-east-1",
  };
  const [command, args] = limit
    ? limit.wrap(process.execPath, [CHILD, bundle, eventFile])
    : [process.execPath, [CHILD, bundle, eventFile]];
  return new Promise<{ ms: number; line: string; inProcessMs: number }>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let found: { ms: number; line: string } | undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const at = performance.now();
      out += chunk;
      if (found) return;
      const line = out.split("\n").find((l) => l.includes(until));
      if (line !== undefined && out.includes(`${line}\n`)) found = { ms: at - started, line };
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const answer = out.split("\n").find((l) => l.includes('"result"'));
      if (found && answer && code === 0)
        resolve({ ...found, inProcessMs: (JSON.parse(answer) as { ms: number }).ms });
      else
        reject(
          new Error(`cold start of ${bundle} (exit ${code}) wrote no line with ${until}:\n${out}${err}`),
        );
    });
  });
}

/**
 * The datapoints a line gives CloudWatch, without the timestamp, in a stable order, and the
 * transport it carries as a property (for Logs Insights).
 */
function datapointsOf(line: string): string[] {
  const transport = (JSON.parse(line) as Record<string, unknown>)[METRIC_DIMENSIONS.transport];
  const points = readEmfLine(line)
    .flatMap(({ namespace, data }) =>
      data.map((d) =>
        JSON.stringify([
          namespace,
          d.MetricName,
          d.Unit,
          (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`),
          d.Values,
          d.Counts,
        ]),
      ),
    )
    .sort();
  return [...points, `${METRIC_DIMENSIONS.transport} property: ${String(transport)}`];
}

export async function measureMetricsEmf(rounds: number): Promise<MetricsEmfResult> {
  const root = mkdtempSync(join(tmpdir(), "bench-metrics-emf-"));
  const bundles: Record<Variant, EmfBundle> = {
    handWritten: build("hand-written", "metrics-emf/hand-written.ts", root),
    powertools: build("powertools", "metrics-emf/powertools.ts", root),
    empty: build("empty", "obvious/empty.ts", root),
  };
  const eventFile = join(root, "event.json");
  writeFileSync(eventFile, "{}");

  const lines: Partial<Record<Variant, string>> = {};
  let inside: Record<Variant, number[]> = { handWritten: [], powertools: [], empty: [] };
  const run = (v: Variant, limit?: CpuLimit) => async () => {
    // The metrics entries: to their EMF line. The empty handler writes none: to its answer.
    const r = await coldStart(bundles[v].path, eventFile, v === "empty" ? '"result"' : '"_aws"', limit);
    lines[v] = r.line;
    inside[v].push(r.inProcessMs);
    return r.ms;
  };
  const measure = async (cpu: "full" | number, limit?: CpuLimit): Promise<MetricsEmfRow> => {
    // One unmeasured round first: the page cache and the CPU's clock, warm for every variant alike.
    for (const v of ["handWritten", "powertools", "empty"] as const) await run(v, limit)();
    inside = { handWritten: [], powertools: [], empty: [] };
    const s = await interleaved(
      {
        handWritten: run("handWritten", limit),
        powertools: run("powertools", limit),
        empty: run("empty", limit),
      },
      rounds,
    );
    const diffs = (a: number[], b: number[]) => a.map((x, i) => x - (b[i] as number));
    const diff = (a: number[], b: number[]) => median(diffs(a, b));
    const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
    return {
      cpu,
      rounds,
      handWrittenMs: median(s.handWritten),
      powertoolsMs: median(s.powertools),
      emptyMs: median(s.empty),
      powertoolsAddedMs: diff(s.powertools, s.handWritten),
      powertoolsAddedMeanMs: mean(diffs(s.powertools, s.handWritten)),
      handWrittenAboveEmptyMs: diff(s.handWritten, s.empty),
      powertoolsAboveEmptyMs: diff(s.powertools, s.empty),
      inProcess: {
        handWritten: median(inside.handWritten),
        powertools: median(inside.powertools),
        empty: median(inside.empty),
      },
      inProcessAddedMs: diff(inside.powertools, inside.handWritten),
      inProcessAddedMeanMs: mean(diffs(inside.powertools, inside.handWritten)),
    };
  };

  const rows = [await measure("full")];
  if (cgroupsAvailable()) {
    const limit = cpuLimit(cpuShareOf(DEFAULT_MEMORY_MB));
    try {
      rows.push(await measure(DEFAULT_MEMORY_MB, limit));
    } finally {
      limit.close();
    }
  }

  const hand = datapointsOf(lines.handWritten ?? "");
  const pt = datapointsOf(lines.powertools ?? "");
  const same = hand.length > 1 && JSON.stringify(hand) === JSON.stringify(pt);
  return {
    rows,
    bytes: {
      handWritten: bundles.handWritten.bytes,
      powertools: bundles.powertools.bytes,
      empty: bundles.empty.bytes,
    },
    datapoints: hand.length - 1,
    same,
    ...(same
      ? {}
      : {
          difference: `hand-written ${hand.filter((d) => !pt.includes(d)).join(" ")} | powertools ${pt
            .filter((d) => !hand.includes(d))
            .join(" ")}`,
        }),
  };
}
