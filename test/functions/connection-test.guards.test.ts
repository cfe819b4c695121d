/**
 * POST /email/test's guards against a caller who would use it as a probe or a leak (issue 19):
 * the ports a request may name (SMTP's own, the settings' own, or the deployment's list; 443 for a
 * token endpoint), the caller named on every refusal's log line, and a typed secret kept out of
 * every log line and answer wherever else in the request it was pasted. Real SMTP servers on
 * 127.0.0.1, the settings in moto's SSM.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHandler, MAX_BODY_BYTES } from "../../functions/connection-test.ts";
import { InvalidEnvironmentError } from "../../functions/environment.ts";
import { testCertificates } from "../helpers/certs.ts";
import { captureLogs, httpEvent, lambdaContext } from "../helpers/lambda.ts";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const PASSWORD = "gU4rd-pa55-Xq81-zz";
const CLIENT_SECRET = "cl13nt-S3cret~Value.9";
const CALLER = { userArn: "arn:aws:iam::123456789012:user/prober", accountId: "123456789012" };
const certs = testCertificates();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function server(): Promise<TestSmtpServer> {
  const s = await startSmtpServer({ tls: certs.server, users: { mailer: PASSWORD } });
  cleanups.push(() => s.close());
  return s;
}

/** The deployment: SSM holding settings for `home` (its port is the settings' own), and the function. */
async function deployed(env: Record<string, string> = {}) {
  const home = await server();
  const ssm = ssmFixture();
  await ssm.putSettings({
    SMTPServer: "127.0.0.1",
    SMTPPort: String(home.port),
    ConnectionSecurity: "STARTTLS",
    SMTPUsername: "mailer",
    SMTPPassword: PASSWORD,
  });
  const logs = captureLogs();
  const handler = createHandler({
    env: { SETTINGS_PATH: ssm.root, ...env },
    store: ssm.store(),
    write: logs.write,
    smtp: { ca: certs.ca },
  });
  const call = async (body: unknown) => {
    const event = httpEvent(typeof body === "string" ? body : JSON.stringify(body));
    (event.requestContext as unknown as Record<string, unknown>).authorizer = { iam: CALLER };
    const res = await handler(event, lambdaContext("connection-test"));
    const text = String(res.body ?? "");
    return { status: res.statusCode, text, json: JSON.parse(text) };
  };
  return { home, logs, call };
}

describe("the ports a request may name", () => {
  it("refuses an SMTPPort outside SMTP's (25, 465, 587, 2525) and the settings' own with 403, before any connection", async () => {
    const { call } = await deployed();
    const other = await server();
    const { status, json } = await call({ settings: { SMTPPort: other.port, SMTPPassword: PASSWORD } });
    expect(status).toBe(403);
    expect(json.error).toMatch(
      new RegExp(
        `^SMTPPort ${other.port} is not a port this deployment may test: 25, 465, 587, 2525 or the settings' own \\(\\d+\\); an operator allows others with the testEndpointAllowedPorts context$`,
      ),
    );
    expect(other.connections()).toBe(0);
  });

  it("lets the settings' own port and SMTP's ports through", async () => {
    const { call, home } = await deployed();
    expect((await call({ settings: { SMTPPort: home.port } })).json.ok).toBe(true);
    for (const port of [25, 465, 587, 2525]) {
      const { status, json } = await call({
        settings: { SMTPServer: "127.0.0.1", SMTPPort: port, SMTPPassword: PASSWORD, SMTPServerTimeout: 2 },
      });
      expect([port, status, json.settings?.SMTPPort?.value]).toEqual([port, 200, port]);
    }
  });

  it("with the deployment's list (TEST_ALLOWED_PORTS), those ports and the settings' own, and no others", async () => {
    const other = await server();
    const { call, home } = await deployed({ TEST_ALLOWED_PORTS: `10025, ${other.port}` });
    const listed = await call({ settings: { SMTPPort: other.port, SMTPPassword: PASSWORD } });
    expect([listed.status, listed.json.ok]).toEqual([200, true]);
    expect((await call({ settings: { SMTPPort: home.port } })).json.ok).toBe(true);
    const unlisted = await call({ settings: { SMTPPort: 587, SMTPPassword: PASSWORD } });
    expect(unlisted.status).toBe(403);
    expect(unlisted.json.error).toMatch(
      /^SMTPPort 587 is not a port this deployment may test: 10025, \d+ or the settings' own \(\d+\)/,
    );
  });

  it("with `*`, any port", async () => {
    const other = await server();
    const { call } = await deployed({ TEST_ALLOWED_PORTS: "*" });
    const { status, json } = await call({ settings: { SMTPPort: other.port, SMTPPassword: PASSWORD } });
    expect([status, json.ok]).toEqual([200, true]);
  });

  it("refuses a deployment whose TEST_ALLOWED_PORTS is not a list of ports, naming the variable", () => {
    for (const bad of ["smtp", "0", "70000", "25,,x", "25-30"]) {
      expect(() => createHandler({ env: { TEST_ALLOWED_PORTS: bad }, store: null, write: () => {} })).toThrow(
        InvalidEnvironmentError,
      );
    }
    expect(() =>
      createHandler({ env: { TEST_ALLOWED_PORTS: "smtp" }, store: null, write: () => {} }),
    ).toThrow('TEST_ALLOWED_PORTS "smtp" must be ports from 1 to 65535, comma-separated, or *');
  });

  it("a token endpoint the request leads to must be on 443 (or a listed port), before any connection", async () => {
    const smtp = await startSmtpServer({
      tls: certs.server,
      xoauth2: { check: () => ({ ok: true }), refusal: "microsoft" },
    });
    cleanups.push(() => smtp.close());
    const logs = captureLogs();
    const oauth2 = (endpoint: string) => ({
      settings: {
        SMTPServer: "127.0.0.1",
        SMTPPort: smtp.port,
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer@example.com",
        SMTPAuthMethod: "oauth2-generic",
        OAuth2TokenEndpoint: endpoint,
        OAuth2ClientId: "client-1",
        OAuth2ClientSecret: CLIENT_SECRET,
        OAuth2Scope: "smtp",
        SMTPServerTimeout: 2,
      },
    });
    const handler = createHandler({
      env: { MM_EMAILSETTINGS_SMTPPORT: String(smtp.port) },
      store: null,
      write: logs.write,
      smtp: { ca: certs.ca },
    });
    const call = async (body: unknown) => {
      const res = await handler(httpEvent(JSON.stringify(body)), lambdaContext());
      return { status: res.statusCode, json: JSON.parse(String(res.body)) };
    };
    const odd = await call(oauth2("https://127.0.0.1:8443/token"));
    expect(odd.status).toBe(403);
    expect(odd.json.error).toBe(
      "The token endpoint's port 8443 (127.0.0.1:8443) is not a port this deployment may test: 443 or the settings' own token endpoint's; an operator allows others with the testEndpointAllowedPorts context",
    );
    expect(smtp.connections()).toBe(0);
    const https = await call(oauth2("https://127.0.0.1/token"));
    expect(https.status).toBe(200);
    expect(https.json.error?.stage).toBe("token"); // nothing listens on 443 here: it got that far

    const listed = createHandler({
      env: { MM_EMAILSETTINGS_SMTPPORT: String(smtp.port), TEST_ALLOWED_PORTS: "8443" },
      store: null,
      write: logs.write,
      smtp: { ca: certs.ca },
    });
    const res = await listed(
      httpEvent(JSON.stringify(oauth2("https://127.0.0.1:8443/token"))),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(200);
    expect(`${res.body}\n${logs.text()}`).not.toContain(CLIENT_SECRET);
  });
});

describe("a refused request's log line", () => {
  it.each([
    ["malformed JSON (400)", "{", 400],
    ["a body over the limit (413)", { to: "a@example.com", pad: "x".repeat(MAX_BODY_BYTES) }, 413],
    ["an invalid value (400)", { settings: { SMTPPort: "x" } }, 400],
    ["the mask with another server (400)", { settings: { SMTPServer: "localhost" } }, 400],
    ["a port not allowed (403)", { settings: { SMTPPort: 8025, SMTPPassword: PASSWORD } }, 403],
  ])("names the caller at warn: %s", async (_what, body, status) => {
    const { call, logs } = await deployed();
    expect((await call(body)).status).toBe(status);
    const line = logs.entries().find((e) => e.message === "Request rejected");
    expect(line).toMatchObject({ level: "warn", status, caller: CALLER });
    expect(logs.text()).not.toContain(PASSWORD);
  });
});

describe("a typed secret pasted elsewhere in the request", () => {
  it.each([
    ["into SMTPPort (an invalid value, echoed by its rule)", { SMTPPort: PASSWORD }],
    ["as the name of an unknown setting", { [PASSWORD]: "x" }],
    ["into an unknown setting", { Bogus: PASSWORD }],
    ["into SMTPUsername (the test runs, and answers with the settings)", { SMTPUsername: PASSWORD }],
    ["into SMTPServer (a host the DNS stage names)", { SMTPServer: `${PASSWORD}.invalid` }],
    ["into FeedbackName (answered back in the settings)", { FeedbackName: `Ops ${PASSWORD}` }],
  ])("is in no answer and no log line: %s", async (_what, pasted) => {
    const { call, logs } = await deployed();
    const { text } = await call({ settings: { SMTPPassword: PASSWORD, ...pasted } });
    expect(text).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it("is in no answer and no log line when the allow-list refuses the server it was pasted into", async () => {
    const { call, logs } = await deployed({ TEST_ALLOWED_SMTP_HOSTS: "smtp.example.com" });
    const { status, text } = await call({ settings: { SMTPPassword: PASSWORD, SMTPServer: PASSWORD } });
    expect(status).toBe(403);
    expect(JSON.parse(text).error).toMatch(/^SMTP server "\[redacted\]" is not one this deployment may test/);
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it("an OAuth2 client secret too, pasted into the client ID", async () => {
    const { call, logs } = await deployed();
    const { text } = await call({
      settings: {
        SMTPAuthMethod: "oauth2-generic",
        OAuth2TokenEndpoint: "https://127.0.0.1/token",
        OAuth2ClientSecret: CLIENT_SECRET,
        OAuth2ClientId: CLIENT_SECRET,
        SMTPServerTimeout: 2,
      },
    });
    expect(text).not.toContain(CLIENT_SECRET);
    expect(logs.text()).not.toContain(CLIENT_SECRET);
  });

  it("is in no answer and no log line when the body around it is malformed JSON", async () => {
    const { call, logs } = await deployed();
    const { status, text } = await call(
      `{"settings":{"SMTPPassword":"${PASSWORD}","SMTPUsername":"${PASSWORD}",}}`,
    );
    expect(status).toBe(400);
    expect(text).not.toContain(PASSWORD.slice(0, 8));
    expect(logs.text()).not.toContain(PASSWORD.slice(0, 8));
  });
});

describe("a stored secret the settings show elsewhere", () => {
  // lib/ scrubs the password from what servers and libraries say; a setting's own value, shown on
  // a log line, only the container's logger (functions/create-function.ts registers the stored
  // secrets with it when it reads the settings), and in the answer the function's scrub of it.
  it("is in no answer and no log line: the SMTP password pasted into SMTPServer too", async () => {
    const { call, logs } = await deployed({ MM_EMAILSETTINGS_SMTPSERVER: `${PASSWORD}.invalid` });
    const { status, json, text } = await call({});
    expect(status).toBe(200);
    expect(json.settings.SMTPServer).toMatchObject({
      value: "[redacted].invalid",
      source: { layer: "environment", name: "MM_EMAILSETTINGS_SMTPSERVER" },
    });
    expect(text).not.toContain(PASSWORD);
    const done = logs.entries().find((e) => e.message === "Connection test done");
    expect(done).toMatchObject({
      failedStage: "dns",
      server: expect.stringMatching(/^\[redacted\]\.invalid:\d+$/),
    });
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it("is in no answer and no log line when the setting it was pasted into is invalid (settings unloadable)", async () => {
    const { call, logs } = await deployed({ MM_EMAILSETTINGS_SMTPPORT: PASSWORD });
    const { status, json, text } = await call({});
    expect(status).toBe(500);
    expect(json.error).toMatch(
      /SMTPPort \(environment variable MM_EMAILSETTINGS_SMTPPORT = "\[redacted\]"\)/,
    );
    expect(text).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it("is in no refusal: the allow-list's 403 names the server the password was pasted into", async () => {
    const { call, logs } = await deployed({
      MM_EMAILSETTINGS_SMTPSERVER: `${PASSWORD}.invalid`,
      TEST_ALLOWED_SMTP_HOSTS: "smtp.example.com",
    });
    const { status, json, text } = await call({});
    expect(status).toBe(403);
    expect(json.error).toMatch(/^SMTP server "\[redacted\]\.invalid" is not one this deployment may test/);
    expect(text).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(PASSWORD);
  });
});
