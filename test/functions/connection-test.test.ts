/**
 * POST /email/test driven with HTTP API (payload 2.0) events against moto_server and real SMTP
 * servers with real TLS. Every error path answers with a status and a message that names the
 * problem; the password is never in a response or a log line.
 */

import { afterEach, describe, expect, it } from "vitest";
import { createHandler, MAX_BODY_BYTES } from "../../functions/connection-test.ts";
import { METRICS } from "../../lib/metrics/index.ts";
import { PASSWORD_MASK } from "../../lib/settings/index.ts";
import { testCertificates } from "../helpers/certs.ts";
import { emfOf, readEmfLine } from "../helpers/emf.ts";
import { captureLogs, httpEvent, lambdaContext } from "../helpers/lambda.ts";
import { freePort } from "../helpers/ports.ts";
import { startSilentServer, startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const PASSWORD = "c0nn-T3st-pa55-77a1";
/** The tests' servers listen on ports of their own: the deployment's list lets them through (connection-test.guards.test.ts tests the default). */
const ANY_PORT = { TEST_ALLOWED_PORTS: "*" };
const certs = testCertificates();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/**
 * SMTP with STARTTLS and AUTH; SSM holding the matching settings, password included. `env`: the
 * function's own (TEST_ALLOWED_PORTS "*" where a test names a server on a port of its own).
 */
async function deployed(extra: Record<string, string> = {}, env: Record<string, string> = {}) {
  const smtp: TestSmtpServer = await startSmtpServer({ tls: certs.server, users: { mailer: PASSWORD } });
  cleanups.push(() => smtp.close());
  const ssm = ssmFixture();
  await ssm.putSettings({
    SMTPServer: "127.0.0.1",
    SMTPPort: String(smtp.port),
    ConnectionSecurity: "STARTTLS",
    SMTPUsername: "mailer",
    SMTPPassword: PASSWORD,
    ...extra,
  });
  const logs = captureLogs();
  const handler = createHandler({
    env: { SETTINGS_PATH: ssm.root, MM_EMAILSETTINGS_FEEDBACKNAME: "Chat Ops", ...env },
    store: ssm.store(),
    write: logs.write,
    smtp: { ca: certs.ca },
  });
  const call = async (body?: unknown, options?: Parameters<typeof httpEvent>[1]) => {
    const res = await handler(
      httpEvent(
        body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        options,
      ),
      lambdaContext("connection-test"),
    );
    const text = String(res.body ?? "");
    expect(text).not.toContain(PASSWORD);
    return { status: res.statusCode, json: JSON.parse(text), headers: res.headers };
  };
  return { smtp, ssm, logs, call };
}

describe("POST /email/test", () => {
  it("checks the effective settings stage by stage and returns them redacted with their sources", async () => {
    const { call, ssm, smtp, logs } = await deployed();
    const { status, json, headers } = await call();
    expect(status).toBe(200);
    expect(headers?.["content-type"]).toBe("application/json");
    expect(json.ok).toBe(true);
    expect(json.stages.map((s: { stage: string }) => s.stage)).toEqual([
      "config",
      "dns",
      "connect",
      "greeting",
      "starttls",
      "auth",
      "mail-from",
      "rcpt",
    ]);
    expect(json.settings.SMTPPassword).toEqual({
      value: PASSWORD_MASK,
      source: { layer: "ssm", name: `${ssm.root}/EmailSettings/SMTPPassword` },
    });
    expect(json.settings.FeedbackName).toEqual({
      value: "Chat Ops",
      source: { layer: "environment", name: "MM_EMAILSETTINGS_FEEDBACKNAME" },
    });
    expect(smtp.messages).toHaveLength(0);
    expect(logs.text()).not.toContain(PASSWORD);
    // One connection test run, published as a metric (EMF).
    const [metric] = emfOf(logs.lines).flatMap((l) => readEmfLine(l)[0]?.data ?? []);
    expect(metric).toMatchObject({ MetricName: METRICS.connectionTests, Values: [1], Unit: "Count" });
  });

  it("sends one test message to `to`", async () => {
    const { call, smtp } = await deployed();
    const { json } = await call({ to: "admin@example.com" });
    expect(json.ok).toBe(true);
    expect(json.stages.slice(-3).map((s: { stage: string }) => s.stage)).toEqual([
      "mail-from",
      "rcpt",
      "data",
    ]);
    expect(smtp.messages.map((m) => m.to)).toEqual([["admin@example.com"]]);
    expect(smtp.messages[0]?.raw.toString()).toMatch(/Subject: Mattermost - Testing Email Settings/);
  });

  it("applies the given settings for this test only, and reports the failing stage", async () => {
    const { call } = await deployed({}, ANY_PORT);
    const deadPort = await freePort();
    const { status, json } = await call({ settings: { SMTPPort: deadPort, SMTPPassword: "typed-again" } });
    expect(status).toBe(200);
    expect(json.ok).toBe(false);
    expect(json.error).toMatchObject({ stage: "connect", code: "ECONNREFUSED", transient: true });
    expect(json.settings.SMTPPort).toEqual({
      value: deadPort,
      source: { layer: "request", name: "settings.SMTPPort" },
    });
    expect(json.settings.SMTPPassword.value).toBe(PASSWORD_MASK);

    const again = await call();
    expect(again.json.ok).toBe(true); // nothing was saved
  });

  it("treats the password mask as the saved password while server, port and username are unchanged", async () => {
    const { call, smtp } = await deployed();
    const { json } = await call({
      settings: {
        SMTPServer: "127.0.0.1",
        SMTPPort: String(smtp.port),
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD_MASK,
      },
    });
    expect(json.ok).toBe(true);
    expect(smtp.authAttempts).toEqual(["PLAIN"]);
  });

  it.each([[{ SMTPServer: "localhost" }], [{ SMTPPort: 2525 }], [{ SMTPUsername: "someone-else" }]])(
    "refuses the mask when %j changed",
    async (changed) => {
      const { call, smtp } = await deployed();
      const { status, json } = await call({ settings: { ...changed, SMTPPassword: PASSWORD_MASK } });
      expect(status).toBe(400);
      expect(json.error).toBe(
        "The SMTP server, port, or username has changed. Please re-enter the SMTP password to test connection.",
      );
      expect(smtp.connections()).toBe(0);
    },
  );

  it("never sends the saved password to a server the caller names without typing it", async () => {
    const { call, smtp } = await deployed({}, ANY_PORT);
    const elsewhere = await startSmtpServer({ tls: certs.server, users: { mailer: PASSWORD } });
    cleanups.push(() => elsewhere.close());
    const { status, json } = await call({ settings: { SMTPPort: elsewhere.port } });
    expect(status).toBe(400);
    expect(json.error).toMatch(/has changed\. Please re-enter the SMTP password/);
    expect(elsewhere.connections() + smtp.connections()).toBe(0);

    const typed = await call({ settings: { SMTPPort: elsewhere.port, SMTPPassword: PASSWORD } });
    expect(typed.json.ok).toBe(true); // a typed password may go anywhere the caller says
  });

  it("asks for the password again before testing with certificate checks turned off", async () => {
    const { call, smtp } = await deployed();
    const { status, json } = await call({ settings: { SkipServerCertificateVerification: true } });
    expect(status).toBe(400);
    expect(json.error).toMatch(/SkipServerCertificateVerification has been turned on\. Please re-enter/);
    expect(smtp.connections()).toBe(0);
  });

  it("does not echo a password from a malformed body, in the answer or the logs", async () => {
    const { call, logs } = await deployed();
    const { status, json } = await call(`{"settings":{"SMTPPassword":${PASSWORD}}}`);
    expect(status).toBe(400);
    expect(json.error).toMatch(/^Request body is not valid JSON( \(at position \d+\))?$/);
    expect(logs.text()).not.toContain(PASSWORD.slice(0, 8));
  });

  it("answers 400 'SMTP Server is required' for an empty server", async () => {
    const { call } = await deployed();
    const { status, json } = await call({ settings: { SMTPServer: "" } });
    expect([status, json]).toEqual([400, { error: "SMTP Server is required" }]);
  });

  it.each([
    ["malformed JSON", "{", 400, /^Request body is not valid JSON \(at position \d+\)$/],
    [
      "an unknown top-level field",
      { settings: {}, extra: 1 },
      400,
      /^Invalid request: body: Unrecognized key: "extra"/,
    ],
    [
      "an unknown setting",
      { settings: { SMTPHost: "x" } },
      400,
      /^Invalid request: settings: Unrecognized key: "SMTPHost"/,
    ],
    ["a wrong type", { to: 5 }, 400, /^Invalid request: to: must be an email address/],
    [
      "a setting of the wrong shape",
      { settings: { SMTPPort: [25] } },
      400,
      /^Invalid request: settings\.SMTPPort: /,
    ],
    [
      "a bad setting value",
      { settings: { SMTPPort: "x" } },
      400,
      /SMTPPort \(request field settings\.SMTPPort = "x"\) must be a whole number/,
    ],
    [
      "a body over 16 KiB",
      { to: "a@example.com", pad: "x".repeat(MAX_BODY_BYTES) },
      413,
      /^Request body is \d+ bytes; the limit is 16384/,
    ],
  ])(
    "answers %s with an error status and a message naming the problem",
    async (_what, body, status, message) => {
      const { call, smtp } = await deployed();
      const res = await call(body);
      expect(res.status).toBe(status);
      expect(res.json.error).toMatch(message);
      expect(smtp.connections()).toBe(0);
    },
  );

  it("reads a base64-encoded body as API Gateway sends one", async () => {
    const { call, smtp } = await deployed();
    const body = Buffer.from(JSON.stringify({ to: "b64@example.com" })).toString("base64");
    const { json } = await call(body, {
      isBase64Encoded: true,
      headers: { "content-type": "application/json" },
    });
    expect(json.ok).toBe(true);
    expect(smtp.messages[0]?.to).toEqual(["b64@example.com"]);
  });

  it("answers 500 naming the parameter when the stored settings are invalid, without the password", async () => {
    const { call, ssm } = await deployed({ SMTPPort: "not-a-port" });
    const { status, json } = await call();
    expect(status).toBe(500);
    expect(json.error).toContain(`SSM parameter ${ssm.root}/EmailSettings/SMTPPort`);
  });

  it("keeps the password out of responses and logs when authentication fails", async () => {
    const { call, logs } = await deployed();
    const wrong = `${PASSWORD}-wrong`;
    const { json } = await call({ settings: { SMTPPassword: wrong } });
    expect(json.error).toMatchObject({ stage: "auth", responseCode: 535, transient: false });
    expect(JSON.stringify(json)).not.toContain(wrong);
    expect(logs.text()).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(wrong);
  });
});

describe("what a security-conscious account expects of the endpoint", () => {
  it("refuses a server outside the deployment's allowed hosts with 403, naming it, before any connection", async () => {
    const s = await startSmtpServer();
    const logs = captureLogs();
    const handler = createHandler({
      env: { TEST_ALLOWED_SMTP_HOSTS: "smtp.example.com,*.relay.example.net" },
      store: null,
      write: logs.write,
    });
    const res = await handler(
      httpEvent(JSON.stringify({ settings: { SMTPServer: "127.0.0.1", SMTPPort: s.port } })),
      lambdaContext(),
    );
    await s.close();
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body ?? "{}").error).toMatch(
      /^SMTP server "127\.0\.0\.1" is not one this deployment may test/,
    );
    expect(s.connections()).toBe(0);
  });

  it("names the caller's IAM identity on its log line", async () => {
    const s = await startSmtpServer();
    const logs = captureLogs();
    const handler = createHandler({ env: ANY_PORT, store: null, write: logs.write });
    const event = httpEvent(JSON.stringify({ settings: { SMTPServer: "127.0.0.1", SMTPPort: s.port } }));
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      iam: { userArn: "arn:aws:iam::123456789012:user/operator", accountId: "123456789012" },
    };
    await handler(event, lambdaContext());
    await s.close();
    expect(logs.entries().find((e) => e.message === "Connection test done")).toMatchObject({
      caller: { userArn: "arn:aws:iam::123456789012:user/operator", accountId: "123456789012" },
    });
  });

  it("bounds every stage by the time the invocation has left, and says so", async () => {
    const silent = await startSilentServer();
    const handler = createHandler({ env: ANY_PORT, store: null, write: () => {} });
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 6_000 };
    const res = await handler(
      httpEvent(
        JSON.stringify({
          settings: { SMTPServer: "127.0.0.1", SMTPPort: silent.port, SMTPServerTimeout: 3600 },
        }),
      ),
      context,
    );
    await silent.close();
    const json = JSON.parse(res.body ?? "{}");
    expect(json.ok).toBe(false);
    expect(json.error.stage).toBe("greeting");
    expect(json.warnings).toContain(
      "SMTPServerTimeout 3600 s is longer than this test may wait: each stage was bounded at 2 s, the time the test had left",
    );
  });
});
