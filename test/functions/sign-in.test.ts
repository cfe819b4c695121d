/**
 * The functions signing in without a stored password, as deployed: settings and secrets in SSM
 * (moto_server, SecureStrings under EmailTransportSettings, read through the function's own lite
 * client because the stack turned them on), tokens from a real OAuth2 server answering as the
 * providers do, a real SMTP server that accepts only those tokens, and SES's API through moto.
 * Every secret and every token is searched for in everything the functions wrote and answered.
 */

import { afterEach, describe, expect, it } from "vitest";
import { createHandler as connectionTest } from "../../functions/connection-test.ts";
import { createHandler as alertCheck } from "../../functions/security-alert-check.ts";
import { createHandler as sendNotification } from "../../functions/send-notification.ts";
import { SETTINGS_REFUSAL_FIELD } from "../../lib/notifications/index.ts";
import { memorySentStore } from "../../lib/security-alerts/index.ts";
import { PASSWORD_MASK } from "../../lib/settings/index.ts";
import { testCertificates } from "../helpers/certs.ts";
import { startFeedServer } from "../helpers/feed-server.ts";
import { captureLogs, httpEvent, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import {
  appCertificate,
  CLIENT_ID,
  CLIENT_SECRET,
  MAILBOX,
  OAUTH2_SECRETS,
  type Provider,
  SERVICE_ACCOUNT_KEY,
  startProvider,
  TENANT,
} from "../helpers/oauth2.ts";
import { perTest } from "../helpers/per-test.ts";
import { type SesProxy, sesFixture, sesServer, startSesProxy } from "../helpers/ses.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const certs = testCertificates();
const { defer, smtpServer } = perTest();
const sesMoto = sesServer();
const good = { to: "user@example.com", subject: "You were mentioned", text: "Hi" };
let sesProxy: SesProxy | undefined;
afterEach(async () => {
  await sesProxy?.close();
  sesProxy = undefined;
});

/** The provider, its SMTP server, and SSM holding settings that sign in with `method`. */
async function deployed(method: "oauth2-microsoft" | "oauth2-microsoft-certificate" | "oauth2-google") {
  const provider: Provider = await startProvider();
  defer(() => provider.endpoint.close());
  const tokensSeen: string[] = [];
  const server = await smtpServer({
    tls: certs.server,
    xoauth2: {
      refusal: method === "oauth2-google" ? "google" : "microsoft",
      check: (token, user) => {
        tokensSeen.push(token);
        return provider.endpoint.checkToken(token, user);
      },
    },
  });
  const ssm = ssmFixture();
  const common = {
    SMTPServer: "127.0.0.1",
    SMTPPort: String(server.port),
    ConnectionSecurity: "STARTTLS",
    FeedbackEmail: "noreply@chat.example",
  };
  const microsoft = {
    SMTPAuthMethod: "oauth2-microsoft",
    SMTPUsername: MAILBOX,
    OAuth2TenantId: TENANT,
    OAuth2ClientId: CLIENT_ID,
    OAuth2TokenEndpoint: provider.endpoint.tokenUrl(TENANT),
  };
  await ssm.putSettings(
    method === "oauth2-google"
      ? {
          ...common,
          SMTPAuthMethod: "oauth2-google",
          SMTPUsername: "alerts@workspace.example",
          OAuth2ServiceAccountKey: SERVICE_ACCOUNT_KEY,
          OAuth2TokenEndpoint: provider.endpoint.tokenUrl(),
        }
      : method === "oauth2-microsoft"
        ? { ...common, ...microsoft, OAuth2ClientSecret: CLIENT_SECRET }
        : { ...common, ...microsoft, OAuth2ClientCertificate: appCertificate() },
  );
  const logs = captureLogs();
  return { provider, server, ssm, logs, tokensSeen };
}

/** No secret, no key and no token in any of it. */
function expectNothingSecret(text: string, tokens: readonly string[]) {
  expect(tokens.length).toBeGreaterThan(0);
  for (const secret of [...OAUTH2_SECRETS, ...tokens, certs.app.key.split("\n")[3] as string]) {
    expect(text).not.toContain(secret);
  }
}

describe("send-notification signs in with OAuth2, no password stored", () => {
  it.each(["oauth2-microsoft", "oauth2-microsoft-certificate", "oauth2-google"] as const)(
    "%s: sends, fetches one token for the container, and logs no secret or token",
    async (method) => {
      const { provider, server, ssm, logs, tokensSeen } = await deployed(method);
      const handler = sendNotification({ env: ssm.functionEnv(), write: logs.write, smtp: { ca: certs.ca } });
      const first = await handler(
        sqsEvent([sqsRecord(good), sqsRecord({ ...good, to: "b@example.com" })]),
        lambdaContext(),
      );
      const second = await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
      expect([...first.batchItemFailures, ...second.batchItemFailures]).toEqual([]);
      expect(server.messages).toHaveLength(3);
      expect(server.messages.every((m) => m.secure)).toBe(true);
      expect(provider.endpoint.issued).toBe(1);
      expectNothingSecret(logs.text(), tokensSeen);
    },
  );

  it("a token refused for the settings' fault is retried later, never dead-lettered, and says what to fix", async () => {
    const { provider, ssm, logs, tokensSeen } = await deployed("oauth2-microsoft");
    provider.registered = provider.registered.map((r) =>
      r.kind === "microsoft" ? { ...r, mailboxes: [] } : r,
    );
    const handler = sendNotification({ env: ssm.functionEnv(), write: logs.write, smtp: { ca: certs.ca } });
    const result = await handler(sqsEvent([sqsRecord(good, { messageId: "m-1" })]), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    const warned = logs.entries().find((e) => e.record === "m-1");
    // An error line: the operator must act, and the stack's SettingsRefusedAlarm counts it.
    expect(warned).toMatchObject({
      level: "error",
      [SETTINGS_REFUSAL_FIELD]: "settings",
      error: { stage: "auth", responseCode: 535 },
    });
    expect(String((warned?.error as { message?: string } | undefined)?.message)).toMatch(
      /Add-MailboxPermission/,
    );
    expectNothingSecret(logs.text(), tokensSeen);
  });

  it("without READ_TRANSPORT_SETTINGS (a stack that does not use them) the stored ones are not read: the reference's password sign-in, as before", async () => {
    const { ssm, logs } = await deployed("oauth2-microsoft");
    const s = await smtpServer({ tls: certs.server, users: { mailer: "pw-1" } });
    await ssm.putSettings({ SMTPPort: String(s.port), SMTPUsername: "mailer", SMTPPassword: "pw-1" });
    const handler = sendNotification({
      env: ssm.functionEnv({ READ_TRANSPORT_SETTINGS: "" }),
      write: logs.write,
      smtp: { ca: certs.ca },
    });
    const result = await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(s.authAttempts).toEqual(["PLAIN"]);
  });
});

describe("send-notification with Transport ses", () => {
  it("sends through SES's API with the function's credentials: no SMTP server, no password", async () => {
    const ses = sesFixture(sesMoto());
    await ses.verify();
    sesProxy = await startSesProxy(ses.endpoint);
    const ssm = ssmFixture();
    await ssm.putSettings({
      Transport: "ses",
      FeedbackEmail: ses.sender,
      SESConfigurationSet: "notifications",
    });
    const logs = captureLogs();
    const handler = sendNotification({
      env: ssm.functionEnv({ AWS_ENDPOINT_URL_SESV2: sesProxy.endpoint }),
      write: logs.write,
    });
    const result = await handler(
      sqsEvent([sqsRecord(good), sqsRecord({ ...good, to: "second@example.com" })]),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([]);
    const sent = await ses.sent();
    expect(sent.map((m) => m.destinations[0]).sort()).toEqual(["second@example.com", "user@example.com"]);
    expect(sesProxy.sendBodies.every((b) => b.ConfigurationSetName === "notifications")).toBe(true);
    expect(logs.entries().filter((e) => e.message === "Notification sent")).toHaveLength(2);
  });
});

describe("security-alert-check with Transport ses", () => {
  it("mails a bulletin to each admin through SES's API and records it sent", async () => {
    const ses = sesFixture(sesMoto());
    await ses.verify();
    sesProxy = await startSesProxy(ses.endpoint);
    const feed = await startFeedServer();
    defer(() => feed.close());
    feed.bulletins.push({ id: "MMSA-2026-101", applies_to_version: "10.5.1" });
    feed.html["MMSA-2026-101"] = "<h1>Security update</h1><p>Upgrade to 10.5.2.</p>";
    const ssm = ssmFixture();
    await ssm.putSettings({ Transport: "ses", FeedbackEmail: ses.sender });
    await ssm.put("SecurityAlerts/Recipients", "admin1@example.com,admin2@example.com");
    const handler = alertCheck({
      env: ssm.functionEnv({
        AWS_ENDPOINT_URL_SESV2: sesProxy.endpoint,
        SECURITY_FEED_URL: feed.url,
        APP_VERSION: "10.5.1",
      }),
      sentStore: memorySentStore(),
      write: () => {},
    });
    const report = await handler({ source: "aws.scheduler" }, lambdaContext("security-alert-check"));
    expect(report).toMatchObject({ sent: ["MMSA-2026-101"] });
    const sent = await ses.sent();
    expect(sent.map((m) => m.destinations[0]).sort()).toEqual(["admin1@example.com", "admin2@example.com"]);
    expect(sent[0]?.raw).toMatch(/Subject: Mattermost Security Bulletin/);
  });
});

describe("the connection test signs in as the functions do", () => {
  async function tester(method: "oauth2-microsoft" | "oauth2-google") {
    const world = await deployed(method);
    const handler = connectionTest({
      env: world.ssm.functionEnv(),
      write: world.logs.write,
      smtp: { ca: certs.ca },
    });
    const call = async (body: unknown = {}) => {
      const res = await handler(httpEvent(JSON.stringify(body)), lambdaContext("connection-test"));
      return { status: res.statusCode, text: String(res.body), json: JSON.parse(String(res.body)) };
    };
    return { ...world, call };
  }

  it("reports a token stage before auth, with the token's audience and lifetime, never the token", async () => {
    const { call, tokensSeen, logs } = await tester("oauth2-microsoft");
    const { status, json, text } = await call();
    expect(status).toBe(200);
    expect(json.ok).toBe(true);
    const stages = json.stages.map((s: { stage: string }) => s.stage);
    expect(stages.indexOf("token")).toBeGreaterThan(stages.indexOf("starttls"));
    expect(stages.indexOf("token")).toBe(stages.indexOf("auth") - 1);
    expect(json.token).toMatchObject({ audience: "https://outlook.office.com", roles: ["SMTP.SendAsApp"] });
    expect(json.token.expiresInSeconds).toBeGreaterThan(3000);
    expect(json.settings.OAuth2ClientSecret).toEqual({
      value: PASSWORD_MASK,
      source: { layer: "ssm", name: expect.stringMatching(/\/EmailTransportSettings\/OAuth2ClientSecret$/) },
    });
    expectNothingSecret(`${text}\n${logs.text()}`, tokensSeen);
  });

  it("diagnoses the token endpoint's refusal at the token stage, with Microsoft's code and the fix", async () => {
    const { call, logs } = await tester("oauth2-microsoft");
    const typed = "a-typed-wrong-secret-5521";
    const { json, text } = await call({ settings: { OAuth2ClientSecret: typed } });
    expect(json.ok).toBe(false);
    expect(json.error).toMatchObject({ stage: "token", code: "AADSTS7000215" });
    expect(json.error.message).toMatch(/secret's Value \(not its Secret ID\)/);
    expect(`${text}\n${logs.text()}`).not.toContain(typed);
  });

  it("uses a saved secret only where it was saved for: a changed token endpoint needs it typed again", async () => {
    const { call } = await tester("oauth2-microsoft");
    const moved = { OAuth2TokenEndpoint: "https://login.attacker.example/token" };
    const masked = await call({ settings: { ...moved, OAuth2ClientSecret: PASSWORD_MASK } });
    expect(masked.status).toBe(400);
    expect(masked.json.error).toMatch(
      /OAuth2TokenEndpoint .*has changed\. Please re-enter OAuth2ClientSecret/,
    );
    const server = await call({ settings: { SMTPServer: "localhost" } });
    expect(server.status).toBe(400);
  });

  it("with an allow-list, a token endpoint the request leads to must be on it, named or in a typed key", async () => {
    const world = await deployed("oauth2-google");
    const handler = connectionTest({
      env: world.ssm.functionEnv({ TEST_ALLOWED_SMTP_HOSTS: "127.0.0.1" }),
      write: world.logs.write,
      smtp: { ca: certs.ca },
    });
    const call = async (body: unknown) => {
      const res = await handler(httpEvent(JSON.stringify(body)), lambdaContext("connection-test"));
      return { status: res.statusCode, json: JSON.parse(String(res.body)) };
    };
    const key = JSON.stringify({
      ...JSON.parse(SERVICE_ACCOUNT_KEY),
      token_uri: "https://oauth2.attacker.example/token",
    });
    const viaKey = await call({ settings: { OAuth2ServiceAccountKey: key, OAuth2TokenEndpoint: "" } });
    expect(viaKey.status).toBe(403);
    expect(viaKey.json.error).toMatch(
      /token endpoint host "oauth2\.attacker\.example" is not one this deployment may test/,
    );
    expect((await call({})).status).toBe(200);
  });

  it("Google: the token stage, then a real send", async () => {
    const { call, server } = await tester("oauth2-google");
    const { json } = await call({ to: "someone@example.com" });
    expect(json.ok).toBe(true);
    expect(json.stages.map((s: { stage: string }) => s.stage)).toContain("token");
    expect(server.messages).toHaveLength(1);
  });
});
