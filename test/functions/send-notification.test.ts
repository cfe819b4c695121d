/**
 * The send-notification function driven with real SQS event shapes against moto_server (SSM)
 * and a real SMTP server. No mocked SDK or transport.
 */

import { simpleParser } from "mailparser";
import { describe, expect, it, vi } from "vitest";
import { createHandler } from "../../functions/send-notification.ts";
import { METRIC_DIMENSIONS, METRICS } from "../../lib/metrics/index.ts";
import { testCertificates } from "../helpers/certs.ts";
import { emfOf, readEmfLine } from "../helpers/emf.ts";
import { captureLogs, eventBridgeEnvelope, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { perTest } from "../helpers/per-test.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const PASSWORD = "n0tify-Secret-9d2e";
const { smtpServer: smtp } = perTest();

/** A deployed-like function: settings in SSM under a fresh root, logs captured. */
async function deploy(settings: Record<string, string>, options: { ca?: string } = {}) {
  const ssm = ssmFixture();
  await ssm.putSettings({ FeedbackEmail: "noreply@chat.example", ...settings });
  const logs = captureLogs();
  const handler = createHandler({
    env: { SETTINGS_PATH: ssm.root },
    store: ssm.store(),
    write: logs.write,
    ...(options.ca ? { smtp: { ca: options.ca } } : {}),
  });
  return { handler, logs, ssm };
}

const good = { to: "user@example.com", subject: "You were mentioned", text: "Hi" };

describe("send-notification", () => {
  it("sends good records and reports exactly the failed ones, telling transient from permanent", async () => {
    const s = await smtp({
      rcptReplies: {
        "gone@example.com": { code: 550, message: "No such user" },
        "busy@example.com": { code: 451, message: "Mailbox busy" },
      },
    });
    const { handler, logs } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    const records = [
      sqsRecord(good, { messageId: "ok-1" }),
      sqsRecord({ to: "not-an-address", text: "x" }, { messageId: "invalid-1" }),
      sqsRecord({ ...good, to: "gone@example.com" }, { messageId: "permanent-1" }),
      sqsRecord({ ...good, to: "busy@example.com" }, { messageId: "transient-1" }),
      sqsRecord("{not json", { messageId: "invalid-2" }),
      sqsRecord({ ...good, to: "second@example.com" }, { messageId: "ok-2" }),
    ];
    const result = await handler(sqsEvent(records), lambdaContext());

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      "invalid-1",
      "invalid-2",
      "permanent-1",
      "transient-1",
    ]);
    expect(s.messages.flatMap((m) => m.to).sort()).toEqual(["second@example.com", "user@example.com"]);

    const entries = logs.entries();
    const invalid = entries.filter((e) => e.record === "invalid-1");
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ level: "error", service: "send-notification" });
    expect(invalid[0]?.issues).toEqual(["to: must be an email address", "subject: is required"]);
    expect(entries.find((e) => e.record === "invalid-2")?.issues).toEqual([
      expect.stringMatching(/^body is not JSON/),
    ]);
    expect(entries.find((e) => e.record === "permanent-1")).toMatchObject({
      level: "error",
      message: expect.stringMatching(/failed permanently/),
      error: { stage: "rcpt", responseCode: 550, transient: false },
    });
    expect(entries.find((e) => e.record === "transient-1")).toMatchObject({
      level: "warn",
      message: expect.stringMatching(/failed transiently: SQS will retry/),
      error: { stage: "rcpt", responseCode: 451, transient: true },
    });
    // Every log line names its request; the EMF line (metrics, below) is CloudWatch's, not a log line.
    expect(entries.filter((e) => !("_aws" in e)).every((e) => typeof e.requestId === "string")).toBe(true);
  });

  it("publishes the batch as metrics, one EMF line CloudWatch reads, with no address or secret in it", async () => {
    const certs = testCertificates();
    const s = await smtp({
      tls: certs.server,
      users: { mailer: PASSWORD },
      rcptReplies: { "busy@example.com": { code: 451, message: "Mailbox busy" } },
    });
    const { handler, logs } = await deploy(
      {
        SMTPServer: "127.0.0.1",
        SMTPPort: String(s.port),
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      },
      { ca: certs.ca },
    );
    const sentAt = Date.now() - 2000;
    const withSentAt = (r: ReturnType<typeof sqsRecord>) => ({
      ...r,
      attributes: { ...r.attributes, SentTimestamp: String(sentAt) },
    });
    await handler(
      sqsEvent([
        withSentAt(sqsRecord(good)),
        withSentAt(sqsRecord({ ...good, to: "second@example.com" })),
        withSentAt(sqsRecord({ ...good, to: "busy@example.com" })),
        withSentAt(sqsRecord({ to: "not-an-address", text: "x" })),
      ]),
      lambdaContext("send-notification"),
    );
    const lines = emfOf(logs.lines);
    expect(lines).toHaveLength(1);
    const byName = new Map(
      readEmfLine(lines[0] as string)
        .flatMap((d) => d.data)
        .filter((d) => d.Dimensions?.length === 1)
        .map((d) => [d.MetricName, d]),
    );
    const value = (name: string) => byName.get(name)?.Values;
    expect(value(METRICS.sent)).toEqual([2]);
    // Reported failed to SQS: the busy recipient, and the invalid body (no dead-letter queue here).
    expect(value(METRICS.failed)).toEqual([2]);
    expect(value(METRICS.deferred.connection)).toEqual([1]);
    // A count of 0 is left out (a custom metric is billed for each hour it has data).
    expect(value(METRICS.deferred.throttle)).toBeUndefined();
    expect(value(METRICS.deadLettered.invalid)).toEqual([1]);
    // From the event's SentTimestamp, two seconds ago, to the server's 250: two values, at least 2 s.
    expect(value(METRICS.eventToAccepted)).toHaveLength(2);
    for (const v of value(METRICS.eventToAccepted) ?? []) expect(v).toBeGreaterThanOrEqual(2000);
    expect(value(METRICS.sessionSetup)).toHaveLength(1);
    expect(value(METRICS.sendTime)).toHaveLength(2);
    expect(byName.get(METRICS.sendTime)?.Unit).toBe("Milliseconds");
    expect(byName.get(METRICS.sent)?.Dimensions).toEqual([
      { Name: METRIC_DIMENSIONS.function, Value: "send-notification" },
    ]);
    for (const secret of [PASSWORD, "user@example.com", "busy@example.com", "example.com"]) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it("shares one SMTP connection across the batch", async () => {
    const s = await smtp();
    const { handler } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    const records = Array.from({ length: 10 }, (_, i) => sqsRecord({ ...good, to: `u${i}@example.com` }));
    const result = await handler(sqsEvent(records), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(s.messages).toHaveLength(10);
    expect(s.connections()).toBe(1);
  });

  it("keeps the SMTP connection for the next warm invocation, unless SMTP_KEEPALIVE_SECONDS is 0", async () => {
    const s = await smtp();
    const { handler } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
    await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
    expect(s.connections()).toBe(1);

    const s2 = await smtp();
    const ssm = ssmFixture();
    await ssm.putSettings({ SMTPServer: "127.0.0.1", SMTPPort: String(s2.port) });
    const closing = createHandler({
      env: { SMTP_KEEPALIVE_SECONDS: "0" },
      store: ssm.store(),
      write: () => {},
    });
    await closing(sqsEvent([sqsRecord(good)]), lambdaContext());
    await closing(sqsEvent([sqsRecord(good)]), lambdaContext());
    expect(s2.connections()).toBe(2);
  });

  it("gives a redelivered record the same Message-ID, derived from the SQS message id", async () => {
    const s = await smtp();
    const { handler } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    const record = sqsRecord(good, { messageId: "3f1c-redelivered" });
    await handler(sqsEvent([record]), lambdaContext());
    await handler(
      sqsEvent([{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: "2" } }]),
      lambdaContext(),
    );
    const ids = await Promise.all(s.messages.map(async (m) => (await simpleParser(m.raw)).messageId));
    expect(ids).toEqual(["<3f1c-redelivered@chat.example>", "<3f1c-redelivered@chat.example>"]);
  });

  it("keeps a Message-ID the body gives", async () => {
    const s = await smtp();
    const { handler } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    await handler(sqsEvent([sqsRecord({ ...good, messageId: "<post-42@chat.example>" })]), lambdaContext());
    expect((await simpleParser(s.messages[0]?.raw ?? Buffer.alloc(0))).messageId).toBe(
      "<post-42@chat.example>",
    );
  });

  it("reads a notification from an EventBridge envelope's detail", async () => {
    const s = await smtp();
    const { handler } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    const result = await handler(
      sqsEvent([
        sqsRecord(eventBridgeEnvelope({ ...good, html: "<p>From <b>EventBridge</b></p>", text: undefined })),
      ]),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([]);
    const parsed = await simpleParser(s.messages[0]?.raw ?? Buffer.alloc(0));
    expect(parsed.html).toContain("<b>EventBridge</b>");
    expect(parsed.text?.trim()).toBe("From EventBridge");
  });

  it("names detail fields when an EventBridge envelope is invalid", async () => {
    const { handler, logs } = await deploy({});
    const result = await handler(
      sqsEvent([sqsRecord(eventBridgeEnvelope({ to: "x@example.com" }), { messageId: "eb-bad" })]),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "eb-bad" }]);
    expect(logs.entries().find((e) => e.record === "eb-bad")?.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^detail\.subject: /),
        "detail.text: text or html is required",
      ]),
    );
  });

  it("acknowledges without sending when SendEmailNotifications is false, counting each as skipped", async () => {
    const s = await smtp();
    const { handler, logs } = await deploy({
      SMTPServer: "127.0.0.1",
      SMTPPort: String(s.port),
      SendEmailNotifications: "false",
    });
    const result = await handler(sqsEvent([sqsRecord(good), sqsRecord(good)]), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(s.connections()).toBe(0);
    expect(logs.entries().filter((e) => /skipped/.test(String(e.message)))).toHaveLength(2);
    expect(logs.entries().find((e) => e.message === "Batch done")).toMatchObject({ skipped: 2, sent: 0 });
  });

  it("fails the whole batch (nothing sent) when the settings are invalid, naming the parameter", async () => {
    const s = await smtp();
    const { handler, logs, ssm } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: "smtp" });
    await expect(handler(sqsEvent([sqsRecord(good)]), lambdaContext())).rejects.toThrow(/SMTPPort/);
    expect(s.connections()).toBe(0);
    expect(logs.text()).toContain(`SSM parameter ${ssm.root}/EmailSettings/SMTPPort`);
  });

  it("never logs the SMTP password, even when authentication fails", async () => {
    const certs = testCertificates();
    const s = await smtp({ tls: certs.server, users: { mailer: "something-else" } });
    const { handler, logs } = await deploy(
      {
        SMTPServer: "127.0.0.1",
        SMTPPort: String(s.port),
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      },
      { ca: certs.ca },
    );
    const result = await handler(sqsEvent([sqsRecord(good, { messageId: "auth-fail" })]), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "auth-fail" }]);
    expect(logs.entries().find((e) => e.record === "auth-fail")).toMatchObject({
      error: { stage: "auth", responseCode: 535 },
    });
    expect(logs.text()).not.toContain(PASSWORD);
    expect(logs.text()).not.toContain(Buffer.from(PASSWORD).toString("base64"));
  });
});

describe("the invocation's deadline", () => {
  it("leaves records it no longer has time for to SQS, unattempted, instead of being cut off mid-batch", async () => {
    const s = await smtp();
    const { handler, logs } = await deploy({
      SMTPServer: "127.0.0.1",
      SMTPPort: String(s.port),
      SMTPServerTimeout: "5",
    });
    // Plenty of time until two messages are out, then less than the reserve (2 × 5 s + 2 s).
    const context = {
      ...lambdaContext(),
      getRemainingTimeInMillis: () => (s.messages.length < 2 ? 60_000 : 11_000),
    };
    const records = [1, 2, 3, 4].map((i) =>
      sqsRecord({ ...good, to: `u${i}@example.com` }, { messageId: `late-${i}` }),
    );
    const result = await handler(sqsEvent(records), context);
    expect(s.messages.flatMap((m) => m.to)).toEqual(["u1@example.com", "u2@example.com"]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["late-3", "late-4"]);
    expect(
      logs.entries().filter((e) => /not attempted: SQS will deliver it again/.test(String(e.message))),
    ).toHaveLength(2);
  });
});

describe("settings refresh", () => {
  it("keeps serving the last good settings when SSM fails, and logs a warning with the function's fields", async () => {
    const s = await smtp();
    const ssm = ssmFixture();
    await ssm.putSettings({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    const real = ssm.store();
    let reads = 0;
    const flaky = {
      description: real.description,
      read: () => (++reads > 1 ? Promise.reject(new Error("SSM down")) : real.read()),
    };
    const logs = captureLogs();
    const handler = createHandler({ env: { SETTINGS_CACHE_SECONDS: "0" }, store: flaky, write: logs.write });
    await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
    const second = await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    expect(s.messages).toHaveLength(2);
    expect(
      logs.entries().find((e) => /serving the last good settings/.test(String(e.message))),
    ).toMatchObject({
      level: "warn",
      service: "send-notification",
      error: "SSM down",
    });
  });
});

describe("the exported handler", () => {
  it("is wired from the environment: SETTINGS_PATH and the SDK's AWS_ENDPOINT_URL_SSM", async () => {
    const s = await smtp();
    const ssm = ssmFixture();
    await ssm.putSettings({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    vi.stubEnv("SETTINGS_PATH", ssm.root);
    vi.stubEnv("AWS_ENDPOINT_URL_SSM", ssm.endpoint);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      vi.resetModules();
      const { handler } = await import("../../functions/send-notification.ts");
      const result = await handler(sqsEvent([sqsRecord(good)]), lambdaContext());
      expect(result.batchItemFailures).toEqual([]);
      expect(s.messages).toHaveLength(1);
      const logged = stdout.mock.calls.map((c) => String(c[0])).join("");
      expect(logged).toContain('"service":"send-notification"');
    } finally {
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});

describe("a malformed direct invocation", () => {
  it.each([
    [
      "{}",
      {},
      /^Invalid event: expected an SQS batch, an object with a Records array; got an object with keys \(none\)/,
    ],
    ["null", null, /^Invalid event: expected an SQS batch.*got null/],
    [
      "a record without messageId",
      { Records: [{ body: "{}" }] },
      /^Invalid event: Records\[0\]: messageId must be a non-empty string/,
    ],
    [
      "a record without a body",
      { Records: [{ messageId: "m-1" }] },
      /^Invalid event: Records\[0\]: body must be a string/,
    ],
  ])("%s fails with a named InvalidEventError, sending nothing", async (_what, event, message) => {
    const s = await smtp();
    const { handler, logs } = await deploy({ SMTPServer: "127.0.0.1", SMTPPort: String(s.port) });
    await expect(handler(event as never, lambdaContext())).rejects.toMatchObject({
      name: "InvalidEventError",
      message: expect.stringMatching(message),
    });
    expect(s.messages).toHaveLength(0);
    expect(logs.entries().find((e) => e.message === "Invocation failed")).toMatchObject({
      error: { name: "InvalidEventError" },
    });
  });
});
