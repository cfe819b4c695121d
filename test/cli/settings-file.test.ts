import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetParameterCommand, GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { settingsExport, settingsImport } from "../../cli/commands/settings-file.ts";
import { runCommand } from "../../cli/context.ts";
import { deployedStack } from "./fixture.ts";

const SECRET = "imported-Secret-42";

async function configFile(json: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mm-email-cli-"));
  const path = join(dir, "config.json");
  await writeFile(path, JSON.stringify(json));
  return path;
}

const CONFIG = {
  ServiceSettings: { SiteURL: "https://chat.example.com", EnableSecurityFixAlert: false },
  EmailSettings: {
    SendEmailNotifications: true,
    FeedbackName: "Chat",
    FeedbackEmail: "noreply@example.com",
    ReplyToAddress: "",
    SMTPUsername: "mailer",
    SMTPPassword: SECRET,
    SMTPServer: "smtp.example.com",
    SMTPPort: "587",
    ConnectionSecurity: "STARTTLS",
    EnableSMTPAuth: true,
    SMTPServerTimeout: 10,
    PushNotificationServer: "https://push.example.com",
  },
};

describe("settings import / export", () => {
  it("--dry-run shows the changes and writes nothing; import writes only what changes", async () => {
    const stack = await deployedStack();
    await stack.ssm.putSettings({
      SMTPServer: "smtp.example.com",
      SMTPPort: "25",
      ReplyToAddress: "old@example.com",
    });
    const file = await configFile(CONFIG);
    const dry = stack.cli();
    expect(await settingsImport(dry.ctx, file, { dryRun: true })).toBe(0);
    expect(dry.out()).toMatch(/SMTPPort\s+25\s+→\s+587/);
    expect(dry.out()).toMatch(/ReplyToAddress\s+old@example\.com\s+→\s+\(unset\)/);
    expect(dry.out()).toMatch(
      /EnableSecurityFixAlert\s+\(unset\)\s+→\s+false\s+\/.*\/ServiceSettings\/EnableSecurityFixAlert/,
    );
    expect(dry.out()).not.toMatch(/^SMTPServer\s/m); // unchanged
    expect(dry.out()).toContain("nothing written");
    expect(dry.err()).toContain(
      `warning: ${file}: 1 key(s) that are no setting of this product are ignored (EmailSettings.PushNotificationServer)\n`,
    );
    const port = `${stack.ssm.root}/EmailSettings/SMTPPort`;
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: port }))).Parameter?.Value).toBe(
      "25",
    );

    const noTty = stack.cli();
    expect(await runCommand(noTty.ctx, () => settingsImport(noTty.ctx, file))).toBe(2);
    expect(noTty.err()).toContain("pass --yes");

    const real = stack.cli("", { yes: true });
    expect(await settingsImport(real.ctx, file)).toBe(0);
    expect(real.out()).toMatch(/11 change\(s\) written/);
    const all = await stack.ssm.client.send(
      new GetParametersByPathCommand({ Path: stack.ssm.root, Recursive: true, WithDecryption: true }),
    );
    const stored = Object.fromEntries(
      (all.Parameters ?? []).map((p) => [p.Name?.slice(stack.ssm.root.length + 1), [p.Type, p.Value]]),
    );
    expect(stored["EmailSettings/SMTPPort"]).toEqual(["String", "587"]);
    expect(stored["EmailSettings/SMTPPassword"]).toEqual(["SecureString", SECRET]);
    expect(stored["EmailSettings/ReplyToAddress"]).toBeUndefined();
    expect(stored["ServiceSettings/EnableSecurityFixAlert"]).toEqual(["String", "false"]);

    const again = stack.cli("", { yes: true });
    expect(await settingsImport(again.ctx, file)).toBe(0);
    expect(again.out()).toContain("Nothing to change");

    const exported = stack.cli();
    expect(await settingsExport(exported.ctx)).toBe(0);
    const json = JSON.parse(exported.out());
    expect(json.EmailSettings).toMatchObject({
      SMTPServer: "smtp.example.com",
      SMTPPort: "587",
      SMTPServerTimeout: 10,
      EnableSMTPAuth: true,
    });
    expect(json.EmailSettings.SMTPPassword).toBeUndefined();
    expect(json.ServiceSettings).toEqual({ EnableSecurityFixAlert: false });
    for (const text of [dry.out(), dry.err(), real.out(), real.err(), exported.out(), exported.err()]) {
      expect(text).not.toContain(SECRET);
    }
  });

  it("refuses an invalid file with the product's messages and writes nothing", async () => {
    const stack = await deployedStack();
    const file = await configFile({ EmailSettings: { SMTPPort: "smtp", FeedbackEmail: "nobody" } });
    const { ctx, err } = stack.cli("", { yes: true });
    expect(await settingsImport(ctx, file)).toBe(1);
    expect(err()).toContain(
      `SMTPPort (settings file ${file} EmailSettings.SMTPPort = "smtp") must be a whole number from 1 to 65535`,
    );
    expect(err()).toContain("FeedbackEmail");
    expect(err()).toContain("Nothing was written");
  });

  it("a stock config.json's keys this product does not use: one summary line, the list with --verbose", async () => {
    const stack = await deployedStack();
    const unused = Object.fromEntries(
      Array.from({ length: 18 }, (_, i) => [`ReferenceOnlySetting${i}`, i % 2 === 0]),
    );
    const file = await configFile({ EmailSettings: { SMTPServer: "smtp.example.com", ...unused } });
    const quiet = stack.cli();
    expect(await settingsImport(quiet.ctx, file, { dryRun: true })).toBe(0);
    const lines = quiet.err().trimEnd().split("\n");
    expect(lines).toEqual([
      `warning: ${file}: 18 key(s) that are no setting of this product are ignored (EmailSettings.ReferenceOnlySetting0, EmailSettings.ReferenceOnlySetting1, EmailSettings.ReferenceOnlySetting2, …); --verbose lists them`,
    ]);
    const verbose = stack.cli();
    expect(await settingsImport(verbose.ctx, file, { dryRun: true, verbose: true })).toBe(0);
    const listed = verbose
      .err()
      .split("\n")
      .filter((l) => l.startsWith("  ignored: "));
    expect(listed).toEqual(Object.keys(unused).map((k) => `  ignored: EmailSettings.${k}`));
  });
});
