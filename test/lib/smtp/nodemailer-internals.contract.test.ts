/**
 * The contract lib/smtp/nodemailer-internals.ts keeps with the pinned nodemailer: each internal it
 * relies on, exercised against a real SMTP server (smtp-server, STARTTLS with a test CA) on
 * 127.0.0.1. A nodemailer upgrade that changes one fails here, the failure naming the internal
 * and what the product uses it for; the rest of the suite then fails in ways that say less.
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { afterEach, describe, expect, it } from "vitest";
import {
  NodemailerInternalsError,
  sendCommand,
  type TransactionLine,
  transactionLog,
} from "../../../lib/smtp/nodemailer-internals.ts";
import { secretForms } from "../../../lib/smtp/secrets.ts";
import { testCertificates } from "../../helpers/certs.ts";
import { startSmtpServer, type TestSmtpServer } from "../../helpers/smtp-server.ts";

const PASSWORD = "c0ntract-Pass-7d1";
const certs = testCertificates();
const VERSION = new SMTPConnection({}).version;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A session as the product opens one (greeting, EHLO, STARTTLS, EHLO, AUTH PLAIN), its log kept. */
async function signedIn() {
  const server: TestSmtpServer = await startSmtpServer({ tls: certs.server, users: { mailer: PASSWORD } });
  const lines: TransactionLine[] = [];
  const conn = new SMTPConnection({
    host: "127.0.0.1",
    port: server.port,
    name: "contract.example",
    requireTLS: true,
    tls: { ca: certs.ca },
    ...transactionLog((line) => lines.push(line)),
  });
  cleanups.push(async () => {
    conn.close();
    await server.close();
  });
  await call(conn, (cb) => conn.connect(() => cb()));
  await call(conn, (cb) => conn.login({ user: "mailer", pass: PASSWORD }, cb));
  return { server, conn, lines };
}

function call(conn: SMTPConnection, run: (cb: (error?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.once("error", reject);
    run((error) => (error ? reject(error) : resolve()));
  });
}

/** Through the adapter: the reply the command's queued action was given. */
function command(conn: SMTPConnection, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    conn.once("error", reject);
    sendCommand(conn, line, resolve);
  });
}

const client = (lines: TransactionLine[]) => lines.filter((l) => l.from === "client").map((l) => l.text);
const statuses = (lines: TransactionLine[]) => lines.flatMap((l) => (l.from === "server" ? [l.status] : []));

describe(`nodemailer ${VERSION}: its transaction log (transactionLog: true, logger.debug({ tnx }, text)), read by stages.ts's replyTracker`, () => {
  it("gives each command as sent (tnx client, verb first, AUTH's credentials masked) and each reply whole (tnx server), in order", async () => {
    const { conn, lines } = await signedIn();
    await call(conn, (cb) =>
      conn.send({ from: "a@example.com", to: ["b@example.com"] }, "Subject: contract\r\n\r\nhello\r\n", cb),
    );

    const commands = client(lines);
    expect(
      commands.map((c) => (c.startsWith("AUTH PLAIN ") ? "AUTH PLAIN (masked)" : c)),
      "nodemailer's transaction log no longer gives each command it sends as one { tnx: 'client' } line: replyTracker cannot tell which stage a reply belongs to",
    ).toEqual([
      "EHLO contract.example",
      "STARTTLS",
      "EHLO contract.example",
      "AUTH PLAIN (masked)",
      "MAIL FROM:<a@example.com>",
      "RCPT TO:<b@example.com>",
      "DATA",
    ]);
    expect(
      statuses(lines),
      "nodemailer's transaction log no longer gives each reply once, whole, as one { tnx: 'server' } line ending in its code: replyTracker cannot tell when a stage is answered, or refused",
    ).toEqual([220, 250, 220, 250, 235, 250, 250, 354, 250]);
    const ehlo = lines.find((l) => l.from === "server" && l.text.includes("PIPELINING"));
    expect(
      ehlo?.text.split("\n").length,
      "nodemailer's transaction log no longer joins a multi-line reply's lines with \\n in one line",
    ).toBeGreaterThan(1);
    const everything = JSON.stringify(lines);
    for (const secret of secretForms(PASSWORD, "mailer")) {
      expect(
        everything,
        "nodemailer's transaction log now carries AUTH's credentials unmasked",
      ).not.toContain(secret);
    }
  });
});

describe(`nodemailer ${VERSION}: its command primitives (_sendCommand, _responseActions), behind dialogue.ts's checkEnvelope`, () => {
  it("sends a command and gives its reply, whole, to the action queued for it; nodemailer's own commands go on after", async () => {
    const { conn, lines, server } = await signedIn();
    const envelope = [
      await command(conn, "MAIL FROM:<a@example.com>"),
      await command(conn, "RCPT TO:<b@example.com>"),
      await command(conn, "RSET"),
      await command(conn, "RCPT TO:<b@example.com>"),
    ];
    expect(
      envelope.map((reply) => reply.slice(0, 4)),
      "nodemailer's _sendCommand() and _responseActions[] no longer give a command's reply to the action queued with it: the connection check's envelope (MAIL FROM, RCPT TO, RSET) cannot be checked",
    ).toEqual(["250 ", "250 ", "250 ", "503 "]);
    expect(
      client(lines).slice(-4),
      "nodemailer's _sendCommand() no longer logs the command it sends as a { tnx: 'client' } line: the connection check's mail-from and rcpt stages go unmarked",
    ).toEqual(["MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "RSET", "RCPT TO:<b@example.com>"]);

    // The queue is nodemailer's own: a message sent after the commands is answered as it should be.
    await call(conn, (cb) =>
      conn.send({ from: "a@example.com", to: ["b@example.com"] }, "Subject: after\r\n\r\nhello\r\n", cb),
    );
    expect(
      server.messages.map((m) => m.to),
      "after commands sent with nodemailer's _sendCommand(), its own send() no longer works: the replies left its _responseActions[] out of step",
    ).toEqual([["b@example.com"]]);
  });

  it("is refused by name when a nodemailer has neither", () => {
    const stranger = Object.assign(Object.create(SMTPConnection.prototype), {
      version: "99.0.0",
    }) as SMTPConnection;
    Object.defineProperty(stranger, "_sendCommand", { value: undefined });
    expect(() => sendCommand(stranger, "NOOP", () => {})).toThrow(NodemailerInternalsError);
    expect(() => sendCommand(stranger, "NOOP", () => {})).toThrow(
      /^nodemailer 99\.0\.0's SMTPConnection has no _sendCommand\(\) and _responseActions\[\]/,
    );
  });
});
