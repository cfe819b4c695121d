import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { connectionTest } from "../../cli/commands/test.ts";
import { runCommand } from "../../cli/context.ts";
import { deployedStack } from "./fixture.ts";
import { localRuns } from "./local-run.ts";

const startLocal = localRuns();

describe("test (the connection test)", () => {
  it("against the local run: exit 0 when it works, with every stage", async () => {
    const local = await startLocal();
    const { ctx, out } = local.cli();
    expect(await runCommand(ctx, () => connectionTest(ctx, { to: "admin@example.com" }))).toBe(0);
    expect(out()).toMatch(/ok\s+greeting/);
    expect(out()).toContain("Test message sent to admin@example.com");
    expect(out()).toContain("The connection works.");
    expect(
      local.product.mailbox.messages.some((m) => m.subject === "Mattermost - Testing Email Settings"),
    ).toBe(true);
  });

  it("exit 1 when the connection fails, naming the stage", async () => {
    const local = await startLocal();
    const { ctx, out } = local.cli();
    expect(await runCommand(ctx, () => connectionTest(ctx, { set: ["SMTPPort=1"] }))).toBe(1);
    expect(out()).toMatch(/FAIL\s+connect\s/);
    // The failed stage is the FAIL line's alone, never first printed as ok.
    expect(out()).not.toMatch(/ok\s+connect\s/);
    expect(out()).toContain("The connection does NOT work.");
    const json = local.cli();
    expect(
      await runCommand(json.ctx, () => connectionTest(json.ctx, { set: ["SMTPPort=1"], json: true })),
    ).toBe(1);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, error: { stage: expect.any(String) } });
  });

  it("exit 2 for a bad request: the product's message, a bad --set, the password on the command line", async () => {
    const local = await startLocal();
    const bad = local.cli();
    expect(await runCommand(bad.ctx, () => connectionTest(bad.ctx, { set: ["SMTPPort=smtp"] }))).toBe(2);
    expect(bad.err()).toContain(
      'SMTPPort (request field settings.SMTPPort = "smtp") must be a whole number from 1 to 65535',
    );
    const noEq = local.cli();
    expect(await runCommand(noEq.ctx, () => connectionTest(noEq.ctx, { set: ["SMTPPort"] }))).toBe(2);
    const pw = local.cli();
    expect(await runCommand(pw.ctx, () => connectionTest(pw.ctx, { set: ["SMTPPassword=x"] }))).toBe(2);
    expect(pw.err()).toContain("--password-stdin");
  });

  it("a stored password with another server: the reference's refusal, then how to give it", async () => {
    const local = await startLocal();
    await writeFile(
      local.settingsFile,
      JSON.stringify({
        EmailSettings: {
          ConnectionSecurity: "STARTTLS",
          SMTPUsername: "mailer",
          SMTPPassword: "stored-Pa55",
        },
      }),
    );
    const moved = local.cli();
    expect(
      await runCommand(moved.ctx, () =>
        connectionTest(moved.ctx, { set: ["SMTPServer=smtp.other.example"] }),
      ),
    ).toBe(2);
    expect(moved.err()).toContain(
      "The SMTP server, port, or username has changed. Please re-enter the SMTP password to test connection. Give it on stdin with --password-stdin, e.g. printf '%s' \"$PW\" | mm-email test --set … --password-stdin",
    );
  });

  it("against a stack: a SigV4-signed POST to the TestEndpointUrl output (served here by the local run)", async () => {
    const local = await startLocal();
    const stack = await deployedStack({ testEndpointUrl: `${local.product.url}/email/test` });
    const { ctx, out } = stack.cli();
    expect(await runCommand(ctx, () => connectionTest(ctx, { json: true }))).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ ok: true });
  });
});
