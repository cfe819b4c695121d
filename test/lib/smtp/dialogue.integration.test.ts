/**
 * The dialogue's own guard behind nodemailer's requireTLS (lib/smtp/dialogue.ts: startDialogue):
 * with ConnectionSecurity STARTTLS, a session nodemailer leaves unencrypted goes no further. The
 * pinned nodemailer never does (session.integration.test.ts: it fails first), so the test hands
 * the dialogue what a nodemailer that stopped honouring requireTLS would: a connection to a real
 * server (smtp-server on 127.0.0.1) that offers no STARTTLS, opened without requireTLS.
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { describe, expect, it } from "vitest";
import { startDialogue } from "../../../lib/smtp/dialogue.ts";
import { SmtpStageError } from "../../../lib/smtp/errors.ts";
import { stageClock } from "../../../lib/smtp/stages.ts";
import { perTest } from "../../helpers/per-test.ts";
import { PASSWORD, settings } from "./fixtures.ts";

const { defer, smtpServer: server } = perTest();

describe("ConnectionSecurity STARTTLS over a connection nodemailer left in plain text", () => {
  it.each([
    ["without sign-in: nothing else would stop the message", { EnableSMTPAuth: false }],
    ["with a password: before AUTH is reached", { SMTPUsername: "mailer", SMTPPassword: PASSWORD }],
  ])("fails at starttls, %s", async (_what, more) => {
    const s = await server({ noStartTls: true, users: { mailer: PASSWORD } });
    const conn = new SMTPConnection({ host: "127.0.0.1", port: s.port, name: "client.example" });
    defer(async () => conn.close());
    const chosen = settings({ SMTPPort: s.port, ConnectionSecurity: "STARTTLS", ...more });

    const error = await startDialogue(conn, chosen, stageClock(undefined), undefined).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(SmtpStageError);
    expect(error).toMatchObject({ stage: "starttls", code: "ETLS", transient: false });
    expect(conn.secure).toBe(false);
    expect(s.authAttempts).toEqual([]);
  });
});
