/**
 * One exit-code table: the codes docs/cli.md documents are the CLI's own (EXIT, EXIT_MEANINGS,
 * printed by --help), and each case the table names ends with its code, through `main` as the
 * binary runs it. Cases that depend on the AWS environment (region, profile) run the binary in a
 * child process whose environment the test controls entirely.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { EXIT, EXIT_MEANINGS } from "../../cli/output.ts";
import { capture, deployedStack, motoEnv } from "./fixture.ts";

const run = promisify(execFile);
const NODE = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
const BIN = new URL("../../cli/main.ts", import.meta.url).pathname;

/** The binary in a child with exactly `env` (plus PATH): its exit code and stderr. */
async function binary(args: string[], env: Record<string, string>) {
  try {
    const out = await run(NODE, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 30_000,
    });
    return { code: 0, stderr: out.stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** An environment with no AWS configuration at all: empty shared files, no variables. */
async function bareAwsEnv(): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "mm-email-noaws-"));
  const empty = join(dir, "empty");
  await writeFile(empty, "");
  return { HOME: dir, AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty };
}

/** A loopback port where nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function inProcess(argv: string[], env: Record<string, string> = {}) {
  const c = capture();
  const code = await main(argv, c.streams, env);
  return { code, stderr: c.err() };
}

describe("exit codes", () => {
  it("docs/cli.md's table lists exactly the CLI's codes, which --help prints", async () => {
    const docs = await readFile(new URL("../../docs/cli.md", import.meta.url), "utf8");
    const section = docs.slice(
      docs.indexOf("## Exit codes"),
      docs.indexOf("\n## ", docs.indexOf("## Exit codes") + 1),
    );
    const documented = [...section.matchAll(/^\| (\d) +\|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual(Object.values(EXIT));
    const help = capture();
    expect(await main(["--help"], help.streams, {})).toBe(EXIT.ok);
    for (const [code, meaning] of Object.entries(EXIT_MEANINGS))
      expect(help.out()).toContain(`${code} ${meaning}`);
  });

  it("3: no AWS region (none given, none in the environment or the profile)", async () => {
    const { code, stderr } = await binary(["settings", "show"], await bareAwsEnv());
    expect(stderr).toContain("No AWS region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION");
    expect(code).toBe(3);
  });

  it("AWS_DEFAULT_REGION is honoured, as the AWS CLI honours it", async () => {
    const moto = motoEnv();
    const { code, stderr } = await binary(["--stack", "no-such-stack", "status"], {
      ...(await bareAwsEnv()),
      AWS_ACCESS_KEY_ID: moto.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: moto.AWS_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL: moto.AWS_ENDPOINT_URL,
      AWS_DEFAULT_REGION: "eu-west-3",
    });
    expect(stderr).toContain("Stack no-such-stack was not found in eu-west-3");
    expect(code).toBe(3);
  });

  it("3: a --profile that does not exist, said so", async () => {
    const { code, stderr } = await binary(["--profile", "nosuch", "settings", "show"], await bareAwsEnv());
    expect(stderr).toMatch(
      /AWS profile "nosuch" does not exist in .*empty or .*empty \(aws configure list-profiles/,
    );
    expect(code).toBe(3);
  });

  it("3: the network's cause, not just 'fetch failed' (the deployed connection test)", async () => {
    const port = await closedPort();
    const stack = await deployedStack({ testEndpointUrl: `http://127.0.0.1:${port}/email/test` });
    const { code, stderr } = await inProcess(["--stack", stack.name, "test"], stack.env);
    expect(stderr).toContain(
      `Could not call the connection test at http://127.0.0.1:${port}/email/test: TypeError: fetch failed, because ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(code).toBe(3);
  });

  it("3: the local run not answering", async () => {
    const port = await closedPort();
    const { code, stderr } = await inProcess(["--local", `http://127.0.0.1:${port}`, "status"]);
    expect(stderr).toContain(`The local run at http://127.0.0.1:${port} did not answer`);
    expect(code).toBe(3);
  });

  it("2: --local with something that is not a URL is a usage error", async () => {
    const { code, stderr } = await inProcess(["--local=notaurl", "settings", "show"]);
    expect(stderr).toContain('--local "notaurl" is not an http:// URL: pass --local alone');
    expect(code).toBe(2);
    // Spelt apart, a word that is not a URL is not --local's: it is taken for the command.
    const apart = await inProcess(["--local", "notaurl", "settings", "show"]);
    expect(apart.stderr).toContain("unknown command 'notaurl'");
    expect(apart.code).toBe(2);
  });

  it("2: an unknown setting; an unknown option", async () => {
    expect((await inProcess(["--local", "settings", "get", "SMTPHost"])).code).toBe(2);
    expect((await inProcess(["settings", "show", "--colour"])).code).toBe(2);
  });

  it("1: importing a file that is not a config.json, as for one with bad values", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mm-email-bad-"));
    const malformed = join(dir, "config.json");
    await writeFile(malformed, "{ not json");
    const { code, stderr } = await inProcess(["--local", "settings", "import", malformed]);
    expect(stderr).toContain(malformed);
    expect(stderr).toContain("Nothing was written.");
    expect(code).toBe(1);
    const invalid = join(dir, "invalid.json");
    await writeFile(invalid, JSON.stringify({ EmailSettings: { SMTPPort: "smtp" } }));
    expect((await inProcess(["--local", "settings", "import", invalid])).code).toBe(1);
  });

  it("0: --version prints this package's version", async () => {
    const c = capture();
    expect(await main(["--version"], c.streams, {})).toBe(0);
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    expect(c.out()).toBe(`${pkg.version}\n`);
  });
});
