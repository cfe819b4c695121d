/**
 * mm-email and the product's own settings on a deployed stack (moto_server): OAuth2 secrets only
 * from stdin (a key file whole, line breaks kept), stored as SecureStrings under
 * EmailTransportSettings with the password's KMS key, never printed; an empty stdin refused
 * rather than deleting a secret; a warning when the stack's functions do not read the section.
 */
import { DescribeParametersCommand, GetParameterCommand } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { settingsShow, settingsValidate } from "../../cli/commands/settings.ts";
import { settingsSet } from "../../cli/commands/settings-write.ts";
import { connectionTest } from "../../cli/commands/test.ts";
import { runCommand } from "../../cli/context.ts";
import { PASSWORD_MASK } from "../../lib/settings/index.ts";
import { CLIENT_SECRET, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY } from "../helpers/oauth2.ts";
import { deployedStack } from "./fixture.ts";

const reading = { READ_TRANSPORT_SETTINGS: "true" };

async function stored(stack: Awaited<ReturnType<typeof deployedStack>>, name: string) {
  const out = await stack.ssm.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const described = await stack.ssm.client.send(
    new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }] }),
  );
  return { value: out.Parameter?.Value, type: out.Parameter?.Type, keyId: described.Parameters?.[0]?.KeyId };
}

describe("settings set for an OAuth2 secret", () => {
  it("takes the client secret from stdin only, as a SecureString under EmailTransportSettings", async () => {
    const stack = await deployedStack({ functionEnv: reading });
    const onArgv = stack.cli();
    expect(
      await runCommand(onArgv.ctx, () => settingsSet(onArgv.ctx, "OAuth2ClientSecret", CLIENT_SECRET)),
    ).toBe(2);
    expect(onArgv.err()).toMatch(/OAuth2ClientSecret is a secret, never taken from the command line/);

    const piped = stack.cli(`${CLIENT_SECRET}\n`);
    expect(await settingsSet(piped.ctx, "OAuth2ClientSecret", undefined)).toBe(0);
    expect(piped.out()).toBe(
      `OAuth2ClientSecret: wrote ${stack.ssm.root}/EmailTransportSettings/OAuth2ClientSecret = (the secret, as a SecureString)\n`,
    );
    expect(await stored(stack, `${stack.ssm.root}/EmailTransportSettings/OAuth2ClientSecret`)).toMatchObject({
      value: CLIENT_SECRET,
      type: "SecureString",
    });
    expect(piped.err()).toBe("");
    expect(`${piped.out()}${piped.err()}`).not.toContain(CLIENT_SECRET);
  });

  it("takes a service account's JSON key whole from stdin, line breaks and all", async () => {
    const stack = await deployedStack({ functionEnv: reading });
    const piped = stack.cli(SERVICE_ACCOUNT_KEY);
    expect(await settingsSet(piped.ctx, "OAuth2ServiceAccountKey", undefined)).toBe(0);
    const s = await stored(stack, `${stack.ssm.root}/EmailTransportSettings/OAuth2ServiceAccountKey`);
    expect(JSON.parse(s.value ?? "")).toEqual(SERVICE_ACCOUNT);
    expect(piped.out()).not.toContain(SERVICE_ACCOUNT.private_key.split("\n")[2]);
  });

  it("refuses an empty stdin and writes nothing (removing a secret is settings unset)", async () => {
    const stack = await deployedStack({ functionEnv: reading });
    const first = stack.cli(CLIENT_SECRET);
    await settingsSet(first.ctx, "OAuth2ClientSecret", undefined);
    const empty = stack.cli("");
    expect(await runCommand(empty.ctx, () => settingsSet(empty.ctx, "OAuth2ClientSecret", undefined))).toBe(
      2,
    );
    expect(empty.err()).toMatch(/No OAuth2ClientSecret was given \(stdin was empty\): nothing was written/);
    expect((await stored(stack, `${stack.ssm.root}/EmailTransportSettings/OAuth2ClientSecret`)).value).toBe(
      CLIENT_SECRET,
    );
  });

  it("refuses a key file that is not one, naming the setting and the rule, and writes nothing", async () => {
    const stack = await deployedStack({ functionEnv: reading });
    const bad = stack.cli(JSON.stringify({ ...SERVICE_ACCOUNT, type: "authorized_user" }));
    expect(await runCommand(bad.ctx, () => settingsSet(bad.ctx, "OAuth2ServiceAccountKey", undefined))).toBe(
      2,
    );
    expect(bad.err()).toMatch(
      /OAuth2ServiceAccountKey .* must be a service account key: its "type" is not "service_account"\. Nothing was written\./,
    );
    expect(bad.err()).not.toContain(SERVICE_ACCOUNT.private_key.split("\n")[2]);
  });

  it("warns when the stack's functions do not read EmailTransportSettings", async () => {
    const stack = await deployedStack();
    const set = stack.cli();
    expect(await settingsSet(set.ctx, "SMTPAuthMethod", "oauth2-microsoft")).toBe(0);
    expect(set.err()).toMatch(
      /do not read EmailTransportSettings from SSM: SMTPAuthMethod has no effect until the stack is deployed with -c emailTransportSettings='\{\}'/,
    );
    const show = stack.cli();
    await settingsShow(show.ctx);
    expect(show.err()).toMatch(/does not read EmailTransportSettings from SSM/);
  });
});

describe("settings show with the product's own settings", () => {
  it("shows each with its parameter and source, the secrets masked", async () => {
    const stack = await deployedStack({
      functionEnv: { ...reading, MM_EMAILTRANSPORTSETTINGS_OAUTH2TENANTID: "contoso.onmicrosoft.com" },
    });
    await stack.ssm.putSettings({ SMTPAuthMethod: "oauth2-microsoft", OAuth2ClientSecret: CLIENT_SECRET });
    const { ctx, out, err } = stack.cli();
    await settingsShow(ctx, { json: true });
    const shown = JSON.parse(out());
    expect(shown.settings.SMTPAuthMethod).toMatchObject({
      value: "oauth2-microsoft",
      source: { layer: "ssm", name: `${stack.ssm.root}/EmailTransportSettings/SMTPAuthMethod` },
      variable: "MM_EMAILTRANSPORTSETTINGS_SMTPAUTHMETHOD",
    });
    expect(shown.settings.OAuth2ClientSecret.value).toBe(PASSWORD_MASK);
    expect(shown.settings.OAuth2TenantId).toMatchObject({
      value: "contoso.onmicrosoft.com",
      source: { layer: "environment", name: "MM_EMAILTRANSPORTSETTINGS_OAUTH2TENANTID" },
    });
    expect(shown.settings.Transport).toMatchObject({ value: "smtp", source: { layer: "default" } });
    expect(`${out()}${err()}`).not.toContain(CLIENT_SECRET);
  });
});

describe("test --set", () => {
  it("refuses a secret on the command line, pointing at --secret-stdin", async () => {
    const stack = await deployedStack();
    const { ctx, err } = stack.cli();
    expect(
      await runCommand(ctx, () => connectionTest(ctx, { set: [`OAuth2ClientSecret=${CLIENT_SECRET}`] })),
    ).toBe(2);
    expect(err()).toMatch(
      /OAuth2ClientSecret is a secret, never taken from the command line: use --secret-stdin OAuth2ClientSecret/,
    );
  });
});

describe("settings validate", () => {
  it("runs the rules that join settings, as a function does before it connects", async () => {
    const stack = await deployedStack({ functionEnv: reading });
    await stack.ssm.putSettings({
      ConnectionSecurity: "STARTTLS",
      SMTPUsername: "box@example.com",
      SMTPAuthMethod: "oauth2-microsoft",
    });
    const { ctx, out } = stack.cli();
    expect(await settingsValidate(ctx)).toBe(1);
    expect(out()).toContain("invalid: EOAUTH2CONFIG: SMTPAuthMethod oauth2-microsoft needs OAuth2TenantId");
    await stack.ssm.putSettings({
      OAuth2TenantId: "contoso.onmicrosoft.com",
      OAuth2ClientId: "app",
      OAuth2ClientSecret: CLIENT_SECRET,
    });
    const again = stack.cli();
    expect(await settingsValidate(again.ctx)).toBe(0);
  });
});

describe("a change that sends a stored credential somewhere new", () => {
  const stored = {
    SMTPServer: "smtp.example.com",
    ConnectionSecurity: "STARTTLS",
    SMTPUsername: "mailer",
    SMTPPassword: "s3cret-Pa55",
  };

  it("asks first: without a terminal or --yes, nothing is written", async () => {
    const stack = await deployedStack();
    await stack.ssm.putSettings(stored);
    const asked = stack.cli();
    expect(
      await runCommand(asked.ctx, () => settingsSet(asked.ctx, "SMTPServer", "smtp.attacker.example")),
    ).toBe(2);
    expect(asked.err()).toMatch(
      /SMTPServer smtp\.example\.com → smtp\.attacker\.example: the stored SMTPPassword would be sent there from now on/,
    );
    expect(asked.err()).toMatch(
      /\(to send another, set SMTPPassword too\)\. Refusing without a terminal to confirm on: pass --yes/,
    );
    const param = `${stack.ssm.root}/EmailSettings/SMTPServer`;
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: param }))).Parameter?.Value).toBe(
      "smtp.example.com",
    );

    const confirmed = stack.cli("", { yes: true });
    expect(await settingsSet(confirmed.ctx, "SMTPServer", "smtp.other.example")).toBe(0);
    expect((await stack.ssm.client.send(new GetParameterCommand({ Name: param }))).Parameter?.Value).toBe(
      "smtp.other.example",
    );
  });

  it("does not ask when nothing stored would travel, or the change is elsewhere", async () => {
    const stack = await deployedStack();
    await stack.ssm.putSettings(stored);
    const timeout = stack.cli();
    expect(await settingsSet(timeout.ctx, "SMTPServerTimeout", "20")).toBe(0);
    const empty = await deployedStack();
    await empty.ssm.putSettings({ SMTPServer: "smtp.example.com" });
    const noPassword = empty.cli();
    expect(await settingsSet(noPassword.ctx, "SMTPServer", "smtp.other.example")).toBe(0);
  });
});
