/**
 * The connection check (check.ts) against real SMTP servers on 127.0.0.1: every stage it passed
 * with its timing, the one that failed, an optional test message, and never the password.
 */
import { describe, expect, it } from "vitest";
import { runConnectionCheck } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { freePort } from "../../helpers/ports.ts";
import { message, PASSWORD, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { smtpServer: server } = perTest();

describe("runConnectionCheck", () => {
  it("reports every stage it passed, with timings, as far as the envelope, and sends nothing", async () => {
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
      "mail-from",
      "rcpt",
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

describe("a connection check that cannot say ok falsely", () => {
  it("fails at MAIL when the port requires STARTTLS and ConnectionSecurity is none (530), marking nothing after it ok", async () => {
    const s = await server({ requireTlsForMail: true });
    const result = await runConnectionCheck(
      settings({ SMTPPort: s.port, FeedbackEmail: "noreply@chat.example" }),
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ stage: "mail-from", responseCode: 530 });
    expect(result.stages.map((st) => `${st.stage}:${st.ok}`)).toEqual([
      "config:true",
      "dns:true",
      "connect:true",
      "greeting:true",
      "mail-from:false",
    ]);
  });

  it("keeps the stages truthful when a pipelined test message is refused at MAIL", async () => {
    const s = await server({ requireTlsForMail: true });
    const result = await runConnectionCheck(
      settings({ SMTPPort: s.port, FeedbackEmail: "noreply@chat.example" }),
      {
        send: { ...message, to: "admin@example.com" },
      },
    );
    expect(result.error).toMatchObject({ stage: "mail-from", responseCode: 530 });
    const passed = result.stages.filter((st) => st.ok).map((st) => st.stage);
    expect(passed).not.toContain("mail-from");
    expect(passed).not.toContain("rcpt");
    expect(result.stages.filter((st) => st.stage === "mail-from")).toHaveLength(1);
  });

  it("fails at RCPT when a strict relay refuses the EHLO name (504 5.5.2), and warns about it", async () => {
    const s = await server({ strictHelo: true });
    const result = await runConnectionCheck(settings({ SMTPPort: s.port }), { ehloName: "localhost" });
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ stage: "rcpt", responseCode: 504 });
    expect(result.warnings.join("\n")).toMatch(/EHLO name "localhost" is not a fully qualified domain name/);
    expect(s.messages).toHaveLength(0);
  });

  it("gives a strict relay a fully qualified EHLO name by default: the sender's domain", async () => {
    const s = await server({ strictHelo: true });
    const result = await runConnectionCheck(
      settings({ SMTPPort: s.port, FeedbackEmail: "noreply@chat.example" }),
    );
    expect(result.ok).toBe(true);
    expect(result.warnings.join("\n")).not.toMatch(/EHLO/);
  });

  it("warns about settings that work but will hurt in production", async () => {
    const s = await server({ secure: true, tls: certs.server });
    const result = await runConnectionCheck(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "TLS",
        SkipServerCertificateVerification: true,
        EnableSMTPAuth: false,
      }),
    );
    expect(result.ok).toBe(true);
    const said = result.warnings.join("\n");
    expect(said).toMatch(/FeedbackEmail is the reference default test@example\.com/);
    expect(said).toMatch(/ReplyToAddress is the reference default test@example\.com/);
    expect(said).toMatch(/SkipServerCertificateVerification is true/);
  });

  it("warns when the server's greeting takes over half of SMTPServerTimeout", async () => {
    const s = await server({ greetingDelayMs: 1200 });
    const result = await runConnectionCheck(
      settings({ SMTPPort: s.port, SMTPServerTimeout: 2, FeedbackEmail: "noreply@chat.example" }),
    );
    expect(result.ok).toBe(true);
    expect(result.warnings.join("\n")).toMatch(/to greet, over half of SMTPServerTimeout \(2 s\)/);
  });
});
