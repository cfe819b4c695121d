/**
 * A real SSM-compatible server for integration tests: Python moto's `moto_server` on 127.0.0.1,
 * started on a free port and stopped after.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";

export const MOTO_MISSING =
  'moto_server was not found on PATH. The SSM integration tests need it: pip install "moto[server]"';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  if (spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status !== 0) throw new Error(MOTO_MISSING);
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
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
