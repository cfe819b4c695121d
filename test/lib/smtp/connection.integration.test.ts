/**
 * The socket layer (connection.ts) through real sessions: implicit TLS from the first byte, the
 * server's certificate checked against SMTPServer, and what a refused TCP connection reports.
 * Real smtp-server on 127.0.0.1 with certificates from a test CA.
 */
import { describe, expect, it } from "vitest";
import { createMailer } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { freePort } from "../../helpers/ports.ts";
import { message, sendExpectingFailure, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { smtpServer: server } = perTest();

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

describe("TCP connect", () => {
  it("a refused port is a transient connect failure", async () => {
    const port = await freePort();
    const error = await sendExpectingFailure(settings({ SMTPPort: port }));
    expect(error).toMatchObject({ stage: "connect", code: "ECONNREFUSED", transient: true });
    expect(error.message).toMatch(/nothing accepts connections on 127\.0\.0\.1:\d+/);
  });
});
