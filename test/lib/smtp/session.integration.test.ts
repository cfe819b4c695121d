/**
 * The SMTP session against real SMTP servers (smtp-server) on 127.0.0.1, with real TLS from a test
 * CA: plain and STARTTLS sessions, authentication, timeouts and the stage each failure is blamed
 * on, and the bytes a server receives. No mocked transport: every assertion is about bytes a real
 * server saw or refused. The socket layer's own cases (implicit TLS, refused ports) are in
 * connection.integration.test.ts; pooling in mailer.integration.test.ts.
 */
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { createMailer, runConnectionCheck } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";
import { expectNoSecret, message, PASSWORD, sendExpectingFailure, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { defer, smtpServer: server } = perTest();

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
