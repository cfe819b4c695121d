/**
 * The connection check (check.ts) against real SMTP servers on 127.0.0.1: every stage it passed
 * with its timing, the one that failed, an optional test message, and never the password.
 */
import { describe, expect, it } from "vitest";
import { runConnectionCheck } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { freePort } from "../../helpers/ports.ts";
import { PASSWORD, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { smtpServer: server } = perTest();

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
