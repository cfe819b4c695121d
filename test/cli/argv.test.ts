/**
 * Global options before or after the command, as the docs write them: `--local` never takes the
 * command for its URL, and means the default local address when no URL follows.
 */
import { describe, expect, it } from "vitest";
import { normalizeArgv } from "../../cli/argv.ts";
import { DEFAULT_LOCAL_URL } from "../../cli/local.ts";
import { main } from "../../cli/main.ts";
import { capture } from "./fixture.ts";
import { localRuns } from "./local-run.ts";

const startLocal = localRuns();

describe("normalizeArgv", () => {
  it.each([
    [
      ["--local", "settings", "show"],
      [`--local=${DEFAULT_LOCAL_URL}`, "settings", "show"],
    ],
    [
      ["--local", "test"],
      [`--local=${DEFAULT_LOCAL_URL}`, "test"],
    ],
    [
      ["settings", "show", "--local"],
      [`--local=${DEFAULT_LOCAL_URL}`, "settings", "show"],
    ],
    [
      ["--local", "http://127.0.0.1:4000", "test"],
      ["--local=http://127.0.0.1:4000", "test"],
    ],
    [
      ["test", "--local=http://127.0.0.1:4000", "--json"],
      ["--local=http://127.0.0.1:4000", "test", "--json"],
    ],
    [
      ["--json", "status", "--stack", "Staging", "--yes"],
      ["--stack", "Staging", "--yes", "status", "--json"],
    ],
    [
      ["test", "--set", "SMTPPort=587", "--profile=ops"],
      ["--profile=ops", "test", "--set", "SMTPPort=587"],
    ],
  ])("%j → %j", (argv, expected) => {
    expect(normalizeArgv(argv)).toEqual(expected);
  });
});

describe("mm-email against the local run, the global options anywhere", () => {
  it.each([
    (url: string) => ["--local", url, "settings", "show", "--json"],
    (url: string) => ["settings", "show", "--local", url, "--json"],
    (url: string) => ["--json", "--local", url, "settings", "show"],
  ])("settings show (%#)", async (argv) => {
    const { product } = await startLocal();
    const c = capture();
    expect(await main(argv(product.url), c.streams, {})).toBe(0);
    expect(JSON.parse(c.out()).settings.SMTPServer.value).toBe("127.0.0.1");
  });
});
