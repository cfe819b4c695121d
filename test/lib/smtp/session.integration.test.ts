/**
 * The SMTP core against real SMTP servers (smtp-server) on 127.0.0.1, with real TLS from a test
 * CA. No mocked transport: every assertion is about bytes a real server saw or refused.
 */
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { createMailer, runConnectionCheck, SmtpStageError } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { freePort } from "../../helpers/ports.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";
import { message, PASSWORD, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { defer, smtpServer: server } = perTest();

/** Sends one message through a fresh mailer and returns the error it failed with. */
async function sendExpectingFailure(
  s: Parameters<typeof createMailer>[0],
  opts: Parameters<typeof createMailer>[1] = {},
): Promise<SmtpStageError> {
  const mailer = createMailer(s, opts);
  try {
    await mailer.send(message);
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpStageError);
    return error as SmtpStageError;
  } finally {
    await mailer.close();
  }
  throw new Error("expected the send to fail");
}

function expectNoSecret(error: SmtpStageError) {
  const everything = JSON.stringify({ ...error.toJSON(), response: error.response, message: error.message });
  expect(everything).not.toContain(PASSWORD);
  expect(everything).not.toContain(Buffer.from(PASSWORD).toString("base64"));
}

describe('ConnectionSecurity ""', () => {
  it("sends in plain text and never upgrades, even when the server offers STARTTLS", async () => {
    const s = await server({ tls: certs.server });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    const result = await mailer.send(message);
    await mailer.close();
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.secure).toBe(false);
    expect(result.accepted).toEqual(["user@example.com"]);
    expect(result.response).toMatch(/^250/);
  });

  it("refuses to authenticate before connecting at all", async () => {
    const s = await server({ users: { mailer: PASSWORD } });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, EnableSMTPAuth: true, SMTPUsername: "mailer", SMTPPassword: PASSWORD }),
    );
    expect(error).toMatchObject({ stage: "config", code: "EINSECUREAUTH", transient: false });
    expect(error.message).toMatch(/set ConnectionSecurity to TLS or STARTTLS/);
    expect(s.connections()).toBe(0);
    expectNoSecret(error);
  });
});

describe("ConnectionSecurity TLS", () => {
  it("speaks TLS from the first byte and verifies the certificate against SMTPServer", async () => {
    const s = await server({ secure: true, tls: certs.server });
    const mailer = createMailer(
      settings({ SMTPPort: s.port, ConnectionSecurity: "TLS", EnableSMTPAuth: false }),
      { ca: certs.ca },
    );
    await mailer.send(message);
    await mailer.close();
    expect(s.messages[0]?.secure).toBe(true);
  });

  it("verifies by host name too (localhost is on the certificate)", async () => {
    const s = await server({ secure: true, tls: certs.server });
    const mailer = createMailer(
      settings({
        SMTPServer: "localhost",
        SMTPPort: s.port,
        ConnectionSecurity: "TLS",
        EnableSMTPAuth: false,
      }),
      {
        ca: certs.ca,
      },
    );
    await mailer.send(message);
    await mailer.close();
    expect(s.messages).toHaveLength(1);
  });

  it("rejects a self-signed certificate, permanently, saying what to change", async () => {
    const s = await server({ secure: true, tls: certs.selfSigned });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, ConnectionSecurity: "TLS", EnableSMTPAuth: false }),
      {
        ca: certs.ca,
      },
    );
    expect(error).toMatchObject({ stage: "tls", code: "DEPTH_ZERO_SELF_SIGNED_CERT", transient: false });
    expect(error.message).toMatch(/SkipServerCertificateVerification/);
    expect(s.messages).toHaveLength(0);
  });

  it("accepts the self-signed certificate when SkipServerCertificateVerification is true", async () => {
    const s = await server({ secure: true, tls: certs.selfSigned });
    const mailer = createMailer(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "TLS",
        EnableSMTPAuth: false,
        SkipServerCertificateVerification: true,
      }),
    );
    await mailer.send(message);
    await mailer.close();
    expect(s.messages[0]?.secure).toBe(true);
  });

  it("rejects a certificate from an authority it does not trust", async () => {
    const s = await server({ secure: true, tls: certs.server });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, ConnectionSecurity: "TLS", EnableSMTPAuth: false }),
    );
    expect(error).toMatchObject({ stage: "tls", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", transient: false });
  });

  it("says so when the port does not speak TLS", async () => {
    const s = await server({ tls: certs.server });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, ConnectionSecurity: "TLS", EnableSMTPAuth: false }),
      {
        ca: certs.ca,
      },
    );
    expect(error.stage).toBe("tls");
    expect(error.message).toMatch(/did not answer with TLS: set ConnectionSecurity to STARTTLS/);
  });
});

describe("ConnectionSecurity STARTTLS", () => {
  it("upgrades before sending", async () => {
    const s = await server({ tls: certs.server });
    const mailer = createMailer(
      settings({ SMTPPort: s.port, ConnectionSecurity: "STARTTLS", EnableSMTPAuth: false }),
      {
        ca: certs.ca,
      },
    );
    await mailer.send(message);
    await mailer.close();
    expect(s.messages[0]?.secure).toBe(true);
  });

  it("fails, never falling back to plain text, when the server does not offer it", async () => {
    const s = await server({ noStartTls: true });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, ConnectionSecurity: "STARTTLS", EnableSMTPAuth: false }),
      { ca: certs.ca },
    );
    expect(error).toMatchObject({ stage: "starttls", transient: false });
    expect(error.message).toMatch(/does not offer STARTTLS/);
    expect(s.messages).toHaveLength(0);
  });

  it("fails the upgrade on an untrusted certificate", async () => {
    const s = await server({ tls: certs.selfSigned });
    const error = await sendExpectingFailure(
      settings({ SMTPPort: s.port, ConnectionSecurity: "STARTTLS", EnableSMTPAuth: false }),
      { ca: certs.ca },
    );
    expect(error).toMatchObject({ stage: "starttls", code: "DEPTH_ZERO_SELF_SIGNED_CERT", transient: false });
    expect(s.messages).toHaveLength(0);
  });
});

describe("authentication", () => {
  const auth = { ConnectionSecurity: "STARTTLS" as const, EnableSMTPAuth: true, SMTPUsername: "mailer" };

  it.each([
    [["PLAIN", "LOGIN"] as const, "PLAIN"],
    [["LOGIN"] as const, "LOGIN"],
  ])("offered %j, uses %s with good credentials", async (methods, used) => {
    const s = await server({ tls: certs.server, users: { mailer: PASSWORD }, authMethods: [...methods] });
    const mailer = createMailer(settings({ SMTPPort: s.port, ...auth, SMTPPassword: PASSWORD }), {
      ca: certs.ca,
    });
    await mailer.send(message);
    await mailer.close();
    expect(s.authAttempts).toEqual([used]);
    expect(s.messages[0]?.user).toBe("mailer");
  });

  it.each([["PLAIN"], ["LOGIN"]] as const)(
    "%s with bad credentials fails permanently at auth",
    async (method) => {
      const s = await server({ tls: certs.server, users: { mailer: "other" }, authMethods: [method] });
      const error = await sendExpectingFailure(
        settings({ SMTPPort: s.port, ...auth, SMTPPassword: PASSWORD }),
        {
          ca: certs.ca,
        },
      );
      expect(error).toMatchObject({ stage: "auth", responseCode: 535, transient: false });
      expect(error.message).toMatch(/rejected SMTPUsername\/SMTPPassword/);
      expect(s.messages).toHaveLength(0);
      expectNoSecret(error);
    },
  );
});

describe("timeouts bound every stage", () => {
  it("a server that accepts TCP and never greets fails at greeting within the timeout", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const started = performance.now();
    const error = await sendExpectingFailure(settings({ SMTPPort: silent.port, SMTPServerTimeout: 1 }));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ stage: "greeting", code: "ETIMEDOUT", transient: true });
    // Not a performance assertion: it proves the failure came from the 1 s bound, not a hang.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("a server that stalls after DATA fails at data within the timeout", async () => {
    const s = await server({ stallAfterData: true });
    const started = performance.now();
    const error = await sendExpectingFailure(settings({ SMTPPort: s.port, SMTPServerTimeout: 1 }));
    expect(error).toMatchObject({ stage: "data", code: "ETIMEDOUT", transient: true });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("stage attribution", () => {
  it("a server that never answers MAIL FROM fails at mail-from, even with PIPELINING", async () => {
    const s = await server({ stallAtMailFrom: true });
    const error = await sendExpectingFailure(settings({ SMTPPort: s.port, SMTPServerTimeout: 1 }));
    expect(error).toMatchObject({ stage: "mail-from", code: "ETIMEDOUT", transient: true });
  });

  it("closes the socket as soon as opening a session fails", async () => {
    const s = await server({ tls: certs.server, users: { mailer: "other" } });
    const result = await runConnectionCheck(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    expect(result.error?.stage).toBe("auth");
    await new Promise((r) => setTimeout(r, 100));
    expect(s.closed()).toBe(1);
  });
});

describe("secrets a broken server quotes back", () => {
  it.each(["PLAIN", "LOGIN"] as const)("are scrubbed in every form (%s)", async (method) => {
    const s = await server({
      tls: certs.server,
      users: { mailer: "other" },
      authMethods: [method],
      echoCredentials: true,
    });
    const error = await sendExpectingFailure(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    expect(error.response).toMatch(/Invalid username or password for \[redacted\] \[redacted\] \[redacted\]/);
    expectNoSecret(error);
    expect(JSON.stringify(error.response)).not.toContain(
      Buffer.from(`\0mailer\0${PASSWORD}`).toString("base64"),
    );
  });
});

describe("recipient replies", () => {
  it("4xx on RCPT is a transient rcpt failure with its code", async () => {
    const s = await server({
      rcptReplies: { "user@example.com": { code: 451, message: "Try again later" } },
    });
    const error = await sendExpectingFailure(settings({ SMTPPort: s.port }));
    expect(error).toMatchObject({ stage: "rcpt", responseCode: 451, transient: true });
    expect(error.response).toMatch(/Try again later/);
  });

  it("5xx on RCPT is a permanent rcpt failure with its code", async () => {
    const s = await server({ rcptReplies: { "user@example.com": { code: 550, message: "No such user" } } });
    const error = await sendExpectingFailure(settings({ SMTPPort: s.port }));
    expect(error).toMatchObject({ stage: "rcpt", responseCode: 550, transient: false });
    expect(s.messages).toHaveLength(0);
  });

  it("a refused port is a transient connect failure", async () => {
    const port = await freePort();
    const error = await sendExpectingFailure(settings({ SMTPPort: port }));
    expect(error).toMatchObject({ stage: "connect", code: "ECONNREFUSED", transient: true });
    expect(error.message).toMatch(/nothing accepts connections on 127\.0\.0\.1:\d+/);
  });
});

describe("batches", () => {
  it("50 messages go over one connection", async () => {
    const s = await server({ tls: certs.server, users: { mailer: PASSWORD } });
    const mailer = createMailer(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        EnableSMTPAuth: true,
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        mailer.send({ ...message, to: `user${i}@example.com`, subject: `n${i}` }),
      ),
    );
    await mailer.close();
    expect(results).toHaveLength(50);
    expect(s.messages).toHaveLength(50);
    expect(s.connections()).toBe(1);
    expect(s.authAttempts).toHaveLength(1);
    expect(mailer.sessionsOpened).toBe(1);
  });

  it("a failed message does not take its siblings down: the next one gets a new connection", async () => {
    const s = await server({ rcptReplies: { "bad@example.com": { code: 550, message: "No such user" } } });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    await mailer.send(message);
    await expect(mailer.send({ ...message, to: "bad@example.com" })).rejects.toMatchObject({ stage: "rcpt" });
    await mailer.send(message);
    await mailer.close();
    expect(s.messages).toHaveLength(2);
    expect(s.connections()).toBe(2);
  });

  it("once the server cannot be reached, the rest of the batch fails fast", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const mailer = createMailer(settings({ SMTPPort: silent.port, SMTPServerTimeout: 1 }));
    const started = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => mailer.send(message)));
    await mailer.close();
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    // Five sequential greeting timeouts would take 5 s; one bound for the batch proves fail-fast.
    expect(performance.now() - started).toBeLessThan(4_000);
  });
});

describe("the pool", () => {
  it("keeps serving after a failure and an idle drop (slots are never counted twice)", async () => {
    const s = await server({ rcptReplies: { "bad@example.com": { code: 550, message: "No such user" } } });
    const mailer = createMailer(settings({ SMTPPort: s.port, SMTPServerTimeout: 1 }));
    const first = await Promise.allSettled([
      mailer.send({ ...message, to: "bad@example.com" }),
      mailer.send(message),
    ]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    await new Promise((r) => setTimeout(r, 1_300)); // the idle session times out
    const third = await Promise.race([
      mailer.send(message).then(() => "sent"),
      new Promise((r) => setTimeout(() => r("hung"), 5_000)),
    ]);
    await mailer.close();
    expect(third).toBe("sent");
    expect(s.messages).toHaveLength(2);
  });

  it("close() lets sends in flight finish and starts no new connection", async () => {
    const s = await server({ greetingDelayMs: 100 });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    const sends = [mailer.send(message), mailer.send(message), mailer.send(message)];
    await new Promise((r) => setTimeout(r, 20));
    await mailer.close();
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes[0]?.status).toBe("fulfilled");
    expect(outcomes.slice(1).map((o) => o.status === "rejected" && (o.reason as Error).name)).toEqual([
      "NotStartedError",
      "NotStartedError",
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.connections()).toBe(1);
    expect(s.closed()).toBe(1);
  });

  it("starts no send once mayStart says there is no time left", async () => {
    const s = await server();
    let budget = 2;
    const mailer = createMailer(settings({ SMTPPort: s.port }), { mayStart: () => budget-- > 0 });
    const outcomes = await Promise.allSettled([
      mailer.send(message),
      mailer.send(message),
      mailer.send(message),
    ]);
    await mailer.close();
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(s.messages).toHaveLength(2);
  });
});

describe("received bytes", () => {
  it("carry every header and both parts as the reference sends them", async () => {
    const s = await server();
    const mailer = createMailer(
      settings({
        SMTPPort: s.port,
        FeedbackName: "Équipe Ops",
        FeedbackEmail: "noreply@example.com",
        ReplyToAddress: "help@example.com",
      }),
    );
    await mailer.send({
      to: "user@example.com",
      cc: ["cc@example.com"],
      bcc: ["hidden@example.com"],
      subject: "Benachrichtigung: Grüße 👋",
      html: '<p>Hello <b>there</b></p><p><a href="https://example.com/x">Open</a></p>',
      messageId: "<abc-123@example.com>",
      category: "mention",
    });
    await mailer.close();
    const received = s.messages[0];
    expect(received?.from).toBe("noreply@example.com");
    expect(received?.to.sort()).toEqual(["cc@example.com", "hidden@example.com", "user@example.com"]);
    const raw = received?.raw.toString("utf8") ?? "";
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(raw).toMatch(/^Subject: =\?UTF-8\?/m); // RFC 2047
    const parsed = await simpleParser(received?.raw ?? Buffer.alloc(0));
    expect(parsed.from?.value).toEqual([{ name: "Équipe Ops", address: "noreply@example.com" }]);
    expect(parsed.replyTo?.value).toEqual([{ name: "Équipe Ops", address: "help@example.com" }]);
    expect(parsed.subject).toBe("Benachrichtigung: Grüße 👋");
    expect(parsed.messageId).toBe("<abc-123@example.com>");
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(parsed.headers.get("precedence")).toBe("bulk");
    expect(parsed.headers.get("x-category")).toBe("mention");
    expect(parsed.date).toBeInstanceOf(Date);
    expect(parsed.html).toContain("<b>there</b>");
    expect(parsed.text?.trim()).toBe("Hello there\n\nOpen (https://example.com/x)");
    expect(parsed.headers.get("content-type")).toMatchObject({ value: "multipart/alternative" });
  });
});

describe("runConnectionCheck", () => {
  it("reports every stage it passed, with timings, and quits without sending", async () => {
    const s = await server({ tls: certs.server, users: { mailer: PASSWORD } });
    const result = await runConnectionCheck(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    expect(result.ok).toBe(true);
    expect(result.stages.map((st) => st.stage)).toEqual([
      "config",
      "dns",
      "connect",
      "greeting",
      "starttls",
      "auth",
    ]);
    for (const st of result.stages) {
      expect(st.ok).toBe(true);
      expect(st.ms).toBeGreaterThanOrEqual(0);
    }
    expect(s.messages).toHaveLength(0);
  });

  it("sends one test message when asked, and reports the transaction stages", async () => {
    const s = await server({ secure: true, tls: certs.server });
    const result = await runConnectionCheck(
      settings({ SMTPPort: s.port, ConnectionSecurity: "TLS", EnableSMTPAuth: false }),
      {
        ca: certs.ca,
        send: { to: "admin@example.com", subject: "Testing Email Settings", text: "It works" },
      },
    );
    expect(result.ok).toBe(true);
    expect(result.stages.map((st) => st.stage)).toEqual([
      "config",
      "dns",
      "connect",
      "tls",
      "greeting",
      "mail-from",
      "rcpt",
      "data",
    ]);
    expect(s.messages).toHaveLength(1);
    expect(result.messageId).toMatch(/^<.+@example\.com>$/);
  });

  it("names the failing stage after the ones that passed", async () => {
    const port = await freePort();
    const result = await runConnectionCheck(settings({ SMTPPort: port }));
    expect(result.ok).toBe(false);
    expect(result.stages.map((st) => [st.stage, st.ok])).toEqual([
      ["config", true],
      ["dns", true],
      ["connect", false],
    ]);
    expect(result.error).toMatchObject({ stage: "connect", code: "ECONNREFUSED", transient: true });
  });

  it("never returns the password, even when auth fails", async () => {
    const s = await server({ tls: certs.server, users: { mailer: "different" } });
    const result = await runConnectionCheck(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    expect(result.error).toMatchObject({ stage: "auth", responseCode: 535 });
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });
});
