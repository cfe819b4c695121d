/**
 * `npm start` itself (local/main.ts) as a child process: what an operator sees when the port is
 * taken by a first `npm start`.
 */
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const NODE = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
const MAIN = new URL("../../local/main.ts", import.meta.url).pathname;

describe("npm start", () => {
  it("a port already in use: one line saying so and what to do, exit 1, no stack trace", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as AddressInfo;
    const dir = await mkdtemp(join(tmpdir(), "mm-email-main-"));
    try {
      const ended = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          NODE,
          [MAIN, "--port", String(port), "--settings", join(dir, "settings.json")],
          { timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: dir } },
          (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
        );
      });
      expect(ended.code).toBe(1);
      expect(ended.stderr.trim()).toBe(
        `Port ${port} on 127.0.0.1 is in use (another npm start?): stop that one, or run npm start -- --port 0 for any free port (--smtp-port too, when it is the SMTP port)`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
