import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  PutParameterCommand,
} from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { settingsGet, settingsShow, settingsValidate } from "../../cli/commands/settings.ts";
import { settingsSet, settingsUnset } from "../../cli/commands/settings-write.ts";
import { runCommand } from "../../cli/context.ts";
import { PASSWORD_MASK } from "../../lib/settings/index.ts";
import { deployedStack, SEND_NOTIFICATION_TIMEOUT_SECONDS } from "./fixture.ts";

const SECRET = "s3cret-Pa55word!";

describe("settings show / get", () => {
  it("shows every setting with its source: default, SSM parameter, the function's environment override", async () => {
    const stack = await deployedStack({ functionEnv: { MM_EMAILSETTINGS_SMTPPORT: "2525" } });
    await stack.ssm.putSettings({ SMTPServer: "smtp.example.com", SMTPPassword: SECRET, SMTPPort: "587" });
    const { ctx, out } = stack.cli();
    expect(await settingsShow(ctx, { json: true })).toBe(0);
    const shown = JSON.parse(out());
    expect(shown.valid).toBe(true);
    expect(shown.settingsPath).toBe(stack.ssm.root);
    expect(shown.settings.SMTPServer).toMatchObject({
      value: "smtp.example.com",
      source: { layer: "ssm", name: `${stack.ssm.root}/EmailSettings/SMTPServer` },
    });
    expect(shown.settings.SMTPPort).toMatchObject({
      value: 2525,
      source: { layer: "environment", name: "MM_EMAILSETTINGS_SMTPPORT" },
    });
    expect(shown.settings.SMTPPort.sourceText).toMatch(
      /environment variable MM_EMAILSETTINGS_SMTPPORT of function .*sendnotification/,
    );
    expect(shown.settings.FeedbackName).toMatchObject({ value: "", source: { layer: "default" } });
    expect(shown.settings.SMTPPassword.value).toBe(PASSWORD_MASK);
    expect(out()).not.toContain(SECRET);

    const text = stack.cli();
    expect(await settingsShow(text.ctx)).toBe(0);
    expect(text.out()).toMatch(
      /SMTPServer\s+smtp\.example\.com\s+yes\s+SSM parameter \/.*\/EmailSettings\/SMTPServer/,
    );
    expect(text.out()).not.toContain(SECRET);

    const get = stack.cli();
    expect(await settingsGet(get.ctx, "SMTPPort")).toBe(0);
    expect(get.out()).toBe("2525\n");
    expect(get.err()).toContain("MM_EMAILSETTINGS_SMTPPORT");
    // An empty value: a bare empty line on stdout (for $(…)), named as empty on stderr.
    const empty = stack.cli();
    expect(await settingsGet(empty.ctx, "OAuth2ClientSecret")).toBe(0);
    expect(empty.out()).toBe("\n");
    expect(empty.err()).toBe('OAuth2ClientSecret: empty (""), the default\n');
  });

  it("shows an invalid value with the product's own message, and validate fails with it", async () => {
    const stack = await deployedStack();
    await stack.ssm.putSettings({ SMTPPort: "smtp", SMTPServer: "mail.example.com" });
    const { ctx, out } = stack.cli();
    await settingsShow(ctx, { json: true });
    const shown = JSON.parse(out());
    expect(shown.valid).toBe(false);
    expect(shown.settings.SMTPPort.valid).toBe(false);
    expect(shown.settings.SMTPPort.error).toBe(
      `SMTPPort (SSM parameter ${stack.ssm.root}/EmailSettings/SMTPPort = "smtp") must be a whole number from 1 to 65535`,
    );
    expect(shown.settings.SMTPServer).toMatchObject({ value: "mail.example.com", valid: true });
    const v = stack.cli();
    expect(await settingsValidate(v.ctx)).toBe(1);
    expect(v.out()).toContain("must be a whole number from 1 to 65535");
  });

  it("validate runs the function's own checks and gives the connection test's warnings", async () => {
    const stack = await deployedStack({
      functionEnv: { MM_EMAILSETTINGS_SMTPPORT: "2525", MM_SERVICESETTINGS_SITEURL: "http://localhost:8065" },
    });
    // Auth on (STARTTLS) with a username and no password: the function refuses it (ENOAUTH).
    await stack.ssm.putSettings({
      SMTPServer: "smtp.example.com",
      SMTPPort: "587",
      ConnectionSecurity: "STARTTLS",
      SMTPUsername: "mailer",
      SkipServerCertificateVerification: "true",
    });
    const first = stack.cli();
    expect(await settingsValidate(first.ctx, { json: true })).toBe(1);
    const report = JSON.parse(first.out());
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([
      expect.stringMatching(/^ENOAUTH: EnableSMTPAuth is true but SMTPUsername or SMTPPassword is empty/),
    ]);
    expect(report.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `MM_EMAILSETTINGS_SMTPPORT overrides SMTPPort: the value of SSM parameter ${stack.ssm.root}/EmailSettings/SMTPPort has no effect`,
          ),
        ),
        expect.stringMatching(/^FeedbackEmail is the reference default test@example\.com/),
        expect.stringMatching(/^ReplyToAddress is the reference default/),
        expect.stringMatching(/^SkipServerCertificateVerification is true/),
        expect.stringMatching(/^the EHLO name "localhost" is not a fully qualified domain name/),
      ]),
    );
    expect(report.warnings).toHaveLength(5);

    // With the password, and the credentials over plain text: EINSECUREAUTH, as the function says.
    await stack.ssm.putSettings({ SMTPPassword: SECRET, EnableSMTPAuth: "true" });
    await stack.ssm.client.send(
      new DeleteParameterCommand({ Name: `${stack.ssm.root}/EmailSettings/ConnectionSecurity` }),
    );
    const plain = stack.cli();
    expect(await settingsValidate(plain.ctx)).toBe(1);
    expect(plain.out()).toMatch(/^invalid: EINSECUREAUTH: /m);
    expect(plain.err()).toMatch(/^warning: FeedbackEmail is the reference default/m);
    for (const text of [first.out(), first.err(), plain.out(), plain.err()])
      expect(text).not.toContain(SECRET);
  });

  it("refuses an unknown setting name with exit 2", async () => {
    const stack = await deployedStack();
    const { ctx, err } = stack.cli();
    expect(await runCommand(ctx, () => settingsGet(ctx, "smtpport"))).toBe(2);
    expect(err()).toContain("did you mean SMTPPort?");
  });
});

describe("settings set / unset", () => {
  it("writes a valid value, refuses an invalid one with the product's message and writes nothing", async () => {
    const stack = await deployedStack();
    const ok = stack.cli();
    expect(await settingsSet(ok.ctx, "SMTPPort", "587")).toBe(0);
    const param = `${stack.ssm.root}/EmailSettings/SMTPPort`;
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: param }))).Parameter?.Value).toBe(
      "587",
    );

    const bad = stack.cli();
    expect(await runCommand(bad.ctx, () => settingsSet(bad.ctx, "SMTPPort", "smtp"))).toBe(2);
    expect(bad.err()).toContain(
      `Invalid email settings: SMTPPort (SSM parameter ${param} = "smtp") must be a whole number from 1 to 65535`,
    );
    expect(bad.err()).toContain("Nothing was written");
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: param }))).Parameter?.Value).toBe(
      "587",
    );

    const empty = stack.cli();
    expect(await settingsSet(empty.ctx, "SMTPPort", "")).toBe(0);
    expect(empty.out()).toContain("deleted");
    await expect(stack.ssm.client.send(new GetParameterCommand({ Name: param }))).rejects.toThrow();
  });

  it("warns when SMTPServerTimeout is longer than the deployed send-notification supports, saying to redeploy", async () => {
    const stack = await deployedStack();
    // The deployed timeout holds a session and a send at (timeout - 3 s) / 2, no more.
    const supported = Math.floor((SEND_NOTIFICATION_TIMEOUT_SECONDS - 3) / 2);
    const fits = stack.cli();
    expect(await settingsSet(fits.ctx, "SMTPServerTimeout", String(supported))).toBe(0);
    expect(fits.err()).toBe("");

    const beyond = stack.cli();
    expect(await settingsSet(beyond.ctx, "SMTPServerTimeout", String(supported + 1))).toBe(0);
    expect(beyond.err()).toContain(
      `warning: SMTPServerTimeout ${supported + 1} s is longer than the deployed send-notification (timeout ${SEND_NOTIFICATION_TIMEOUT_SECONDS} s) supports, ${supported} s`,
    );
    expect(beyond.err()).toContain("until you redeploy (npx cdk deploy");
  });

  it("takes the password from stdin only, stores it as a SecureString and never prints it", async () => {
    const stack = await deployedStack();
    const onArgv = stack.cli();
    expect(await runCommand(onArgv.ctx, () => settingsSet(onArgv.ctx, "SMTPPassword", SECRET))).toBe(2);
    expect(onArgv.err()).toContain("never taken from the command line");

    const piped = stack.cli(`${SECRET}\n`);
    expect(await settingsSet(piped.ctx, "SMTPPassword", undefined)).toBe(0);
    const stored = await stack.ssm.client.send(
      new GetParameterCommand({ Name: `${stack.ssm.root}/EmailSettings/SMTPPassword`, WithDecryption: true }),
    );
    expect(stored.Parameter).toMatchObject({ Type: "SecureString", Value: SECRET });
    const show = stack.cli();
    await settingsShow(show.ctx, { json: true });
    for (const text of [onArgv.out(), onArgv.err(), piped.out(), piped.err(), show.out(), show.err()]) {
      expect(text).not.toContain(SECRET);
    }
    expect(JSON.parse(show.out()).settings.SMTPPassword.value).toBe(PASSWORD_MASK);
  });

  it("keeps the KMS key the password parameter already has (the stack's passwordKmsKeyArn)", async () => {
    const stack = await deployedStack();
    const name = `${stack.ssm.root}/EmailSettings/SMTPPassword`;
    const key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    await stack.ssm.client.send(
      new PutParameterCommand({
        Name: name,
        Value: "old-secret",
        Type: "SecureString",
        KeyId: key,
        Overwrite: true,
      }),
    );
    const piped = stack.cli(`${SECRET}\n`);
    expect(await settingsSet(piped.ctx, "SMTPPassword", undefined)).toBe(0);
    const described = await stack.ssm.client.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }],
      }),
    );
    expect(described.Parameters?.[0]).toMatchObject({ Type: "SecureString", KeyId: key });
    const stored = await stack.ssm.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    expect(stored.Parameter?.Value).toBe(SECRET);
  });

  it("warns that a value hidden by the function's environment has no effect, naming the variable", async () => {
    const stack = await deployedStack({
      functionEnv: { MM_EMAILSETTINGS_SMTPSERVER: "override.example.com" },
    });
    const { ctx, err } = stack.cli();
    expect(await settingsSet(ctx, "SMTPServer", "smtp.example.com")).toBe(0);
    expect(err()).toMatch(
      /sets MM_EMAILSETTINGS_SMTPSERVER, which overrides SMTPServer: the stored value has no effect/,
    );
    // Deleting asks first: without a terminal, only --yes deletes.
    const refused = stack.cli();
    expect(await runCommand(refused.ctx, () => settingsUnset(refused.ctx, "SMTPServer"))).toBe(2);
    expect(refused.err()).toMatch(
      /Delete .*\/EmailSettings\/SMTPServer\? SMTPServer then takes its default\. Refusing without a terminal/,
    );
    const param = `${stack.ssm.root}/EmailSettings/SMTPServer`;
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: param }))).Parameter?.Value).toBe(
      "smtp.example.com",
    );
    const unset = stack.cli("", { yes: true });
    expect(await settingsUnset(unset.ctx, "SMTPServer")).toBe(0);
    expect(unset.out()).toContain("deleted");
  });
});
