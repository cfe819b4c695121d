/**
 * The documented commands, as an operator types them with the machine's own (older) Node first on
 * PATH: `npx mm-email` and `npx cdk` run without a line of npm's noise on stderr.
 */
import { execFile } from "node:child_process";
import { delimiter } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
/** The PATH an operator's shell has: npm's script PATH without any node_modules/.bin. */
const SYSTEM_PATH = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((dir) => !dir.includes("node_modules"))
  .join(delimiter);

async function npx(args: string[]) {
  const { stdout, stderr } = await run("npx", args, {
    cwd: ROOT,
    env: { PATH: SYSTEM_PATH, HOME: process.env.HOME ?? "/tmp" },
    timeout: 60_000,
  });
  return { stdout, stderr };
}

describe("npx, with the system's Node first on PATH", () => {
  it("npx mm-email --help prints its help and nothing on stderr", async () => {
    const { stdout, stderr } = await npx(["mm-email", "--help"]);
    expect(stdout).toContain("Usage: mm-email");
    expect(stderr).toBe("");
  });

  it("npx cdk prints no EBADENGINE line", async () => {
    const { stdout, stderr } = await npx(["cdk", "--version"]);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(stderr).not.toContain("EBADENGINE");
  });
});
