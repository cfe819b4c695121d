/**
 * Lambda containers for the load test: each is a long-lived Node process (container-child.ts)
 * that imports the bundle as deployed and serves one invocation at a time. A container is started
 * when its first invocation comes (a cold start), kept warm after, and replaced as Lambda replaces
 * a sandbox: after an invocation that timed out (the process is killed at the function's timeout)
 * or crashed (crash(): the load test's kills, faults.ts). Its log lines go to a file, and are tallied by level and message for the report.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

const CHILD = fileURLToPath(new URL("./container-child.ts", import.meta.url));
const NODE_24 = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url));
/** Node 24 runs the child's TypeScript; a runner started by an older Node still gets it. */
const execPath = Number(process.versions.node.split(".")[0]) >= 24 ? process.execPath : NODE_24;

export type InvocationOutcome = "ok" | "error" | "timeout" | "crash";

export interface InvocationResult {
  outcome: InvocationOutcome;
  /** The handler's answer (outcome "ok"). */
  response?: SQSBatchResponse;
  /** What went wrong otherwise. */
  error?: string;
  /** Wall time of the invocation in the parent, init included when cold. */
  ms: number;
  /** This invocation started the container. */
  cold: boolean;
}

/** Function log lines by `level: message`. */
export type LogTally = Map<string, number>;

export interface ContainerOptions {
  /** The bundle's index.mjs. */
  bundle: string;
  /** The function's whole environment (nothing is inherited). */
  env: Record<string, string>;
  name: string;
  /** Where the function's stdout and stderr go (appended). */
  logFile: string;
  /** The function's timeout: the process is killed when an invocation outlasts it. */
  timeoutMs: number;
  /** Log lines are counted here. */
  tally?: LogTally;
  /** How long init may take before the container counts as failed. Default 30 s. */
  initTimeoutMs?: number;
}

export interface Container {
  readonly name: string;
  /** Cold starts so far (the first, and one after each killed sandbox). */
  readonly coldStarts: number;
  invoke(event: SQSEvent): Promise<InvocationResult>;
  /**
   * SIGKILLs the process now if an invocation is under way (an out-of-memory or a crashed runtime):
   * that invocation ends as a crash, and the next one starts a new container. Whether it killed.
   */
  crash(): boolean;
  stop(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  log: WriteStream;
  ready: Promise<void>;
}

let requests = 0;

export function createContainer(options: ContainerOptions): Container {
  let running: Running | undefined;
  /** The container of the invocation under way, if one is. */
  let busy: Running | undefined;
  let coldStarts = 0;
  let nextId = 0;

  const tallyLines = (() => {
    let rest = "";
    return (chunk: Buffer) => {
      if (!options.tally) return;
      const text = rest + chunk.toString("utf8");
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        let key = "stderr/other";
        try {
          const entry = JSON.parse(line) as { level?: string; message?: string; _aws?: unknown };
          // CloudWatch's embedded metrics (one line an invocation) are not log lines.
          if (entry._aws !== undefined) continue;
          key = `${entry.level ?? "?"}: ${entry.message ?? "?"}`;
        } catch {
          if (!line.trim()) continue;
        }
        options.tally.set(key, (options.tally.get(key) ?? 0) + 1);
      }
    };
  })();

  function start(): Running {
    coldStarts++;
    const log = createWriteStream(options.logFile, { flags: "a" });
    const child = fork(CHILD, [options.bundle], {
      env: options.env,
      execPath,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        log.write(chunk);
        tallyLines(chunk);
      });
    }
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`init took over ${options.initTimeoutMs ?? 30_000} ms`)),
        options.initTimeoutMs ?? 30_000,
      );
      child.on("message", (message: { type?: string; error?: string }) => {
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve();
        } else if (message.type === "init-error") {
          clearTimeout(timer);
          reject(new Error(`init failed: ${message.error}`));
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`container exited during init (${code ?? signal})`));
      });
    });
    ready.catch(() => {});
    return { child, log, ready };
  }

  async function kill(r: Running): Promise<void> {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => r.child.once("exit", () => resolve()));
      r.child.kill("SIGKILL");
      await exited;
    }
    await new Promise<void>((resolve) => r.log.end(() => resolve()));
  }

  return {
    name: options.name,
    get coldStarts() {
      return coldStarts;
    },
    async invoke(event) {
      const started = performance.now();
      const cold = running === undefined;
      running ??= start();
      const r = running;
      busy = r;
      const elapsed = () => performance.now() - started;
      try {
        await r.ready;
      } catch (error) {
        busy = undefined;
        running = undefined;
        await kill(r);
        return { outcome: "crash", error: (error as Error).message, ms: elapsed(), cold };
      }
      const id = ++nextId;
      const result = await new Promise<InvocationResult>((resolve) => {
        const finish = (value: Omit<InvocationResult, "ms" | "cold">) => {
          clearTimeout(timer);
          r.child.off("message", onMessage);
          r.child.off("exit", onExit);
          resolve({ ...value, ms: elapsed(), cold });
        };
        const onMessage = (message: {
          type?: string;
          id?: number;
          response?: SQSBatchResponse;
          error?: string;
        }) => {
          if (message.type !== "done" || message.id !== id) return;
          finish(
            message.error !== undefined
              ? { outcome: "error", error: message.error }
              : { outcome: "ok", ...(message.response ? { response: message.response } : {}) },
          );
        };
        const onExit = (code: number | null, signal: string | null) =>
          finish({ outcome: "crash", error: `container exited (${code ?? signal})` });
        // Lambda ends the sandbox at the timeout; a little slack for the IPC round trip.
        const timer = setTimeout(
          () => finish({ outcome: "timeout", error: `no answer within ${options.timeoutMs} ms` }),
          options.timeoutMs + 1000,
        );
        r.child.on("message", onMessage);
        r.child.once("exit", onExit);
        r.child.send({
          type: "invoke",
          id,
          event,
          timeoutMs: options.timeoutMs,
          requestId: `load-${++requests}`,
        });
      });
      busy = undefined;
      if (result.outcome === "timeout" || result.outcome === "crash") {
        running = undefined;
        await kill(r);
      }
      return result;
    },
    crash() {
      const r = busy;
      if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return false;
      r.child.kill("SIGKILL");
      return true;
    },
    async stop() {
      const r = running;
      running = undefined;
      if (r) await kill(r);
    },
  };
}
