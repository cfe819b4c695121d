/**
 * `settings set | unset | import` with --local: against a real local run on free ports, whose
 * settings file (a temp file) stands where SSM stands. The password is searched for in every
 * captured output that handled it.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { settingsGet, settingsShow, settingsValidate } from "../../cli/commands/settings.ts";
import { settingsExport, settingsImport } from "../../cli/commands/settings-file.ts";
import { settingsSet, settingsUnset } from "../../cli/commands/settings-write.ts";
import { runCommand } from "../../cli/context.ts";
import { PASSWORD_MASK } from "../../lib/settings/index.ts";
import { localRuns } from "./local-run.ts";

const startLocal = localRuns();
const SECRET = "local-Pa55word!";
const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

describe("settings set / unset with --local", () => {
  it("asks before sending the stored password to another SMTP server", async () => {
    const local = await startLocal();
    await writeFile(
      local.settingsFile,
      JSON.stringify({
        EmailSettings: { ConnectionSecurity: "STARTTLS", SMTPUsername: "mailer", SMTPPassword: SECRET },
      }),
    );
    const asked = local.cli();
    expect(
      await runCommand(asked.ctx, () => settingsSet(asked.ctx, "SMTPServer", "smtp.attacker.example")),
    ).toBe(2);
    expect(asked.err()).toMatch(
      /SMTPServer "?127\.0\.0\.1"? → smtp\.attacker\.example: the stored SMTPPassword would be sent there/,
    );
    expect((await readJson(local.settingsFile)).EmailSettings.SMTPServer).toBeUndefined();
    const confirmed = local.cli("", { yes: true });
    expect(await settingsSet(confirmed.ctx, "SMTPServer", "smtp.other.example")).toBe(0);
    expect((await readJson(local.settingsFile)).EmailSettings.SMTPServer).toBe("smtp.other.example");
  });

  it("writes the local settings file, which show then names as the source; refuses an invalid value", async () => {
    const local = await startLocal({ env: { MM_EMAILSETTINGS_FEEDBACKNAME: "From the environment" } });
    await writeFile(
      local.settingsFile,
      JSON.stringify({ SecurityAlerts: { Recipients: "ops@example.com" } }),
    );

    const set = local.cli();
    expect(await settingsSet(set.ctx, "SMTPServerTimeout", "30")).toBe(0);
    expect(set.out()).toContain(
      `SMTPServerTimeout: wrote ${local.settingsFile} EmailSettings.SMTPServerTimeout = 30`,
    );
    const show = local.cli();
    expect(await settingsShow(show.ctx, { json: true })).toBe(0);
    expect(JSON.parse(show.out()).settings.SMTPServerTimeout).toMatchObject({
      value: 30,
      source: { layer: "file", name: `${local.settingsFile} EmailSettings.SMTPServerTimeout` },
    });
    expect(await readJson(local.settingsFile)).toEqual({
      SecurityAlerts: { Recipients: "ops@example.com" },
      EmailSettings: { SMTPServerTimeout: 30 },
    });

    const bad = local.cli();
    expect(await runCommand(bad.ctx, () => settingsSet(bad.ctx, "SMTPServerTimeout", "soon"))).toBe(2);
    expect(bad.err()).toContain(
      `SMTPServerTimeout (settings file ${local.settingsFile} EmailSettings.SMTPServerTimeout = "soon") must be a whole number of seconds from 1 to 3600`,
    );
    expect(bad.err()).toContain("Nothing was written");
    expect((await readJson(local.settingsFile)).EmailSettings).toEqual({ SMTPServerTimeout: 30 });

    const hidden = local.cli();
    expect(await settingsSet(hidden.ctx, "FeedbackName", "Chat")).toBe(0);
    expect(hidden.err()).toContain("sets MM_EMAILSETTINGS_FEEDBACKNAME, which overrides FeedbackName");

    const refused = local.cli();
    expect(await runCommand(refused.ctx, () => settingsUnset(refused.ctx, "SMTPServerTimeout"))).toBe(2);
    expect(refused.err()).toMatch(/Remove SMTPServerTimeout from the local run's settings file\? Refusing/);
    expect((await readJson(local.settingsFile)).EmailSettings.SMTPServerTimeout).toBe(30);
    const unset = local.cli("", { yes: true });
    expect(await settingsUnset(unset.ctx, "SMTPServerTimeout")).toBe(0);
    expect(unset.out()).toContain("removed EmailSettings.SMTPServerTimeout");
    const get = local.cli();
    expect(await settingsGet(get.ctx, "SMTPServerTimeout")).toBe(0);
    expect(get.out()).toBe("10\n");
    expect(get.err()).toContain("the default");
  });

  it("takes the password from stdin only, writes it to the file and never prints it", async () => {
    const local = await startLocal();
    const onArgv = local.cli();
    expect(await runCommand(onArgv.ctx, () => settingsSet(onArgv.ctx, "SMTPPassword", SECRET))).toBe(2);
    const piped = local.cli(`${SECRET}\n`);
    expect(await settingsSet(piped.ctx, "SMTPPassword", undefined)).toBe(0);
    expect((await readJson(local.settingsFile)).EmailSettings.SMTPPassword).toBe(SECRET);
    const show = local.cli();
    await settingsShow(show.ctx, { json: true });
    expect(JSON.parse(show.out()).settings.SMTPPassword.value).toBe(PASSWORD_MASK);
    for (const text of [onArgv.out(), onArgv.err(), piped.out(), piped.err(), show.out(), show.err()])
      expect(text).not.toContain(SECRET);
  });
});

describe("settings import with --local", () => {
  it("--dry-run shows the diff against the file; import writes only the changes and keeps the rest", async () => {
    const local = await startLocal();
    await writeFile(
      local.settingsFile,
      JSON.stringify({
        ServiceSettings: { SiteURL: "https://chat.example.com" },
        EmailSettings: { SMTPServer: "smtp.example.com", SMTPPort: "25" },
      }),
    );
    const dir = await mkdtemp(join(tmpdir(), "mm-email-cli-import-"));
    const config = join(dir, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        ServiceSettings: { EnableSecurityFixAlert: false },
        EmailSettings: {
          SMTPServer: "smtp.example.com",
          SMTPPort: "587",
          SMTPPassword: SECRET,
          FeedbackEmail: "noreply@example.com",
        },
      }),
    );
    const before = await readFile(local.settingsFile, "utf8");

    const dry = local.cli();
    expect(await settingsImport(dry.ctx, config, { dryRun: true })).toBe(0);
    expect(dry.out()).toMatch(/SMTPPort\s+25\s+→\s+587\s+\S+ EmailSettings\.SMTPPort/);
    expect(dry.out()).toMatch(/EnableSecurityFixAlert\s+\(unset\)\s+→\s+false\s+\S+ ServiceSettings\./);
    expect(dry.out()).toMatch(/SMTPPassword\s+\(unset\)\s+→\s+\*{32}/);
    expect(dry.out()).not.toMatch(/^SMTPServer\s/m); // unchanged
    expect(dry.out()).toContain("4 change(s); --dry-run: nothing written.");
    expect(await readFile(local.settingsFile, "utf8")).toBe(before);

    const noTty = local.cli();
    expect(await runCommand(noTty.ctx, () => settingsImport(noTty.ctx, config))).toBe(2);
    expect(noTty.err()).toContain("pass --yes");
    expect(await readFile(local.settingsFile, "utf8")).toBe(before);

    const real = local.cli("", { yes: true });
    expect(await settingsImport(real.ctx, config)).toBe(0);
    expect(real.out()).toContain(`4 change(s) written to ${local.settingsFile}.`);
    expect(await readJson(local.settingsFile)).toEqual({
      ServiceSettings: { SiteURL: "https://chat.example.com", EnableSecurityFixAlert: false },
      EmailSettings: {
        SMTPServer: "smtp.example.com",
        SMTPPort: "587",
        SMTPPassword: SECRET,
        FeedbackEmail: "noreply@example.com",
      },
    });

    const again = local.cli("", { yes: true });
    expect(await settingsImport(again.ctx, config)).toBe(0);
    expect(again.out()).toContain("Nothing to change");
    for (const text of [dry.out(), dry.err(), real.out(), real.err(), again.out(), again.err()])
      expect(text).not.toContain(SECRET);
  });
});

describe("settings export with --local", () => {
  it("writes what the local settings file holds in config.json's shape, without the password", async () => {
    const local = await startLocal();
    await writeFile(
      local.settingsFile,
      JSON.stringify({
        EmailSettings: {
          SMTPServer: "smtp.example.com",
          SMTPPort: "587",
          SMTPPassword: SECRET,
          FeedbackName: "Chat",
        },
        ServiceSettings: { EnableSecurityFixAlert: false },
      }),
    );
    const exported = local.cli();
    expect(await runCommand(exported.ctx, () => settingsExport(exported.ctx))).toBe(0);
    expect(JSON.parse(exported.out())).toEqual({
      EmailSettings: { SMTPServer: "smtp.example.com", SMTPPort: "587", FeedbackName: "Chat" },
      ServiceSettings: { EnableSecurityFixAlert: false },
    });
    expect(exported.out() + exported.err()).not.toContain(SECRET);
  });
});

describe("settings validate with --local", () => {
  it("gives the local run's own warnings: a file value its environment hides, and the connection test's", async () => {
    const local = await startLocal({
      env: { MM_EMAILSETTINGS_FEEDBACKNAME: "From env", MM_SERVICESETTINGS_SITEURL: "http://localhost:8065" },
    });
    await writeFile(
      local.settingsFile,
      JSON.stringify({
        EmailSettings: { FeedbackName: "From file", SkipServerCertificateVerification: true },
      }),
    );
    const { ctx, out, err } = local.cli();
    expect(await settingsValidate(ctx)).toBe(0);
    expect(out()).toBe("The settings are valid.\n");
    expect(err()).toContain(
      `warning: MM_EMAILSETTINGS_FEEDBACKNAME overrides FeedbackName: the value of settings file ${local.settingsFile} EmailSettings.FeedbackName has no effect until that variable is removed\n`,
    );
    expect(err()).toMatch(/^warning: SkipServerCertificateVerification is true/m);
    expect(err()).toMatch(/^warning: the EHLO name "localhost" is not a fully qualified domain name/m);
  });
});
