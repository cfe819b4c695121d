/**
 * A real SSM-compatible server for integration tests: Python moto's `moto_server` on 127.0.0.1,
 * started on a free port and stopped after.
 *
 * With two corrections, so it keeps promises the product relies on. CloudWatch answers percentile
 * statistics (p50, p99), which moto leaves empty. DynamoDB applies a
 * conditional write to an item atomically, while moto_server (threaded) checks the condition and
 * writes in two steps, so two concurrent UpdateItems on one item could both pass it (seen under
 * load: two containers given the same send slot). A `sitecustomize` on the server's PYTHONPATH
 * runs moto's DynamoDB item writes one at a time. Callers may add patches of their own (the load
 * test's faster SQS receive): one sitecustomize holds them all, as Python imports only the first.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";

/**
 * CloudWatch's percentile statistics (p50, p99…) in GetMetricData and GetMetricStatistics, which
 * moto answers with nothing: the nearest-rank percentile of the period's values, as CloudWatch
 * computes it from values it has kept whole.
 */
const PERCENTILE_STATISTICS = `# Written by test/helpers/moto.ts: CloudWatch's percentiles (see there).
try:
    import math as _math
    import re as _re
    import moto.cloudwatch.models as _cloudwatch

    _plain = _cloudwatch.Statistics.get_statistics_for_type

    def _with_percentiles(self, stat):
        match = _re.fullmatch(r"p(\\d+(?:\\.\\d+)?)", stat or "")
        if not match:
            return _plain(self, stat)
        values = sorted(self.metric_single_values_list)
        if not values:
            return None
        rank = max(1, _math.ceil(float(match.group(1)) / 100 * len(values)))
        return values[min(rank, len(values)) - 1]

    _cloudwatch.Statistics.get_statistics_for_type = _with_percentiles
except Exception as error:  # a moto without it: run it as it is
    import sys

    print(f"tests: moto's CloudWatch percentiles left as they are: {error!r}", file=sys.stderr)
`;

/** DynamoDB's item writes, each atomic as the real service makes it. */
const ATOMIC_DYNAMODB_WRITES = `# Written by test/helpers/moto.ts: DynamoDB item writes one at a time (see there).
try:
    import functools as _functools
    import threading as _threading
    import moto.dynamodb.models as _dynamodb

    _lock = _threading.RLock()

    def _atomic(method):
        @_functools.wraps(method)
        def wrapper(*args, **kwargs):
            with _lock:
                return method(*args, **kwargs)
        return wrapper

    for _name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        setattr(_dynamodb.DynamoDBBackend, _name, _atomic(getattr(_dynamodb.DynamoDBBackend, _name)))
except Exception as error:  # a moto without these methods: run it as it is
    import sys

    print(f"tests: moto's DynamoDB writes left as they are: {error!r}", file=sys.stderr)
`;

export const MOTO_MISSING =
  'moto_server was not found on PATH. The SSM integration tests need it: pip install "moto[server]"';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Python run in the server at start, after the tests' own correction. */
  patches?: readonly string[];
}

export async function startMoto({ patches = [] }: StartMotoOptions = {}): Promise<MotoServer> {
  if (spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status !== 0) throw new Error(MOTO_MISSING);
  const port = await freePort();
  const site = mkdtempSync(join(tmpdir(), "moto-site-"));
  writeFileSync(
    join(site, "sitecustomize.py"),
    [ATOMIC_DYNAMODB_WRITES, PERCENTILE_STATISTICS, ...patches].join("\n"),
  );
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(delimiter) },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
