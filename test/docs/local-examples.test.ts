/**
 * The docs' "try it on this machine" examples, run exactly as written: every code block marked
 * `<!-- local-example -->` in docs/, line by line in bash from the project's folder, against a
 * local run on the default address the docs' `--local` means (127.0.0.1:3025), as `npm start`
 * serves it. Each line must succeed; the block's last test must say the connection works.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startLocalProduct } from "../../local/product.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const DEFAULT_LOCAL_PORT = 3025;

/** Every marked block: its page, and its command lines. */
function localExamples(): Array<[string, string[]]> {
  const found: Array<[string, string[]]> = [];
  for (const file of readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(root, "docs", file), "utf8");
    for (const match of text.matchAll(/<!-- local-example -->\n```sh\n([\s\S]*?)```/g)) {
      found.push([`docs/${file}`, (match[1] as string).split("\n").filter((l) => l.trim() !== "")]);
    }
  }
  return found;
}

const run = (line: string) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      "bash",
      ["-c", line],
      {
        cwd: root,
        env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });

describe("the docs' local examples, as written", () => {
  const examples = localExamples();

  it("are found: each provider's page and the local run's", () => {
    expect(examples.map(([page]) => page).sort()).toEqual([
      "docs/amazon-ses.md",
      "docs/cli.md",
      "docs/google-workspace.md",
      "docs/local-run.md",
      "docs/microsoft-365.md",
    ]);
  });

  it.each(examples)(
    "%s",
    async (_page, lines) => {
      const settingsFile = join(mkdtempSync(join(tmpdir(), "docs-example-")), "local-settings.json");
      const product = await startLocalProduct({
        env: {},
        port: DEFAULT_LOCAL_PORT,
        settingsFile,
        log: () => {},
      });
      try {
        let last = "";
        for (const line of lines) {
          const { code, out } = await run(line);
          expect(code, `${line}\n${out}`).toBe(0);
          if (/ test\b/.test(line)) last = out;
        }
        expect(last).toMatch(/The connection works\./);
      } finally {
        await product.stop();
      }
    },
    120_000,
  );
});
