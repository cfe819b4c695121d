/**
 * The local run's embedded SMTP server: accepts every message on 127.0.0.1 and keeps it, parsed,
 * for the console's mail view. It stands in for a real server: with the run's certificate it offers
 * STARTTLS and AUTH, taking any password (PLAIN, LOGIN) and the OAuth2 tokens of the embedded token
 * endpoint (XOAUTH2, checked as a provider checks them); unauthenticated mail is accepted too.
 * Mail the local SES endpoint takes is kept here as well (`deliver`).
 *
 * It can also play a provider that limits its senders (local/smtp-limits.ts: a send rate, a
 * connection limit, an outage), off by default and changeable while it runs.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { createSmtpLimits } from "./smtp-limits.ts";
import type { TokenCheck } from "./token-endpoint.ts";

export interface CapturedMail {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  headers: Array<{ name: string; value: string }>;
  text: string;
  html: string | null;
  size: number;
}

/** The embedded server's provider limits; null: no limit. */
export interface MailboxLimits {
  /** Messages a second it accepts (a token bucket). */
  ratePerSecond: number | null;
  /** Messages it accepts at once after a quiet spell; null: one second's worth. */
  burst: number | null;
  /** Connections open at once. */
  maxConnections: number | null;
  /** An outage: open connections are closed with 421 and new ones refused. */
  down: boolean;
}

export interface MailboxStatus {
  limits: MailboxLimits;
  /** Connections refused (connection limit or outage), messages refused by the rate, connections open now. */
  stats: { refusedConnections: number; throttledMessages: number; openConnections: number };
  /** Messages accepted since the start (only the newest are kept in `messages`). */
  captured: number;
}

export const NO_LIMITS: MailboxLimits = {
  ratePerSecond: null,
  burst: null,
  maxConnections: null,
  down: false,
};

export interface Mailbox {
  port: number;
  /** Newest first, at most 500. */
  messages: CapturedMail[];
  status(): MailboxStatus;
  /** Changes the limits named in `change` (the others stay); returns them all. */
  setLimits(change: Partial<MailboxLimits>): MailboxLimits;
  /** Called with each message as it arrives. */
  onMessage(listener: (mail: CapturedMail) => void): void;
  /** Keeps a message that arrived another way (the local SES endpoint), as if it came over SMTP. */
  deliver(raw: Buffer, envelope: { from: string; to: string[] }): Promise<CapturedMail>;
  close(): Promise<void>;
}

const MAX_KEPT = 500;
const OUTAGE_REPLY = "4.3.2 Service not available, closing transmission channel";

/** What smtp-server keeps of each open connection (not in its type declarations). */
interface OpenConnection {
  send(code: number, message: string, context?: string | false): void;
}

export interface MailboxOptions {
  port?: number;
  limits?: Partial<MailboxLimits>;
  /** Offer STARTTLS (and AUTH after it) with this key and certificate. Default: plain SMTP, no AUTH. */
  tls?: { key: string; cert: string };
  /** How XOAUTH2 tokens are checked (the embedded token endpoint's). Default: XOAUTH2 refused. */
  checkToken?: (token: string, user: string) => TokenCheck;
}

export async function startMailbox({
  port = 0,
  limits: initialLimits = {},
  tls,
  checkToken,
}: MailboxOptions = {}): Promise<Mailbox> {
  const messages: CapturedMail[] = [];
  const listeners: Array<(mail: CapturedMail) => void> = [];
  let nextId = 1;
  let limits: MailboxLimits = { ...NO_LIMITS, ...initialLimits };
  const limiter = createSmtpLimits();
  const capture = async (raw: Buffer, envelope: { from: string; to: string[] }): Promise<CapturedMail> => {
    const parsed = await simpleParser(raw);
    const mail: CapturedMail = {
      id: nextId++,
      receivedAt: new Date().toISOString(),
      from: envelope.from,
      to: envelope.to,
      subject: parsed.subject ?? "",
      headers: parsed.headerLines.map((h) => ({
        name: h.key,
        value: h.line.slice(h.line.indexOf(":") + 1).trim(),
      })),
      text: parsed.text ?? "",
      html: typeof parsed.html === "string" ? parsed.html : null,
      size: raw.length,
    };
    messages.unshift(mail);
    messages.length = Math.min(messages.length, MAX_KEPT);
    for (const l of listeners) l(mail);
    return mail;
  };
  const apply = () => {
    limiter.set({
      ...(limits.ratePerSecond !== null ? { ratePerSecond: limits.ratePerSecond } : {}),
      ...(limits.burst !== null ? { burst: limits.burst } : {}),
      ...(limits.maxConnections !== null ? { maxConnections: limits.maxConnections } : {}),
    });
    limiter.setDown(limits.down);
  };
  apply();
  const server = new SMTPServer({
    ...limiter.hooks(),
    logger: false,
    // No reverse DNS per connection: nothing leaves the machine, and greetings come at once.
    disableReverseLookup: true,
    authOptional: true,
    ...(tls ? { key: tls.key, cert: tls.cert, authMethods: ["PLAIN", "LOGIN", "XOAUTH2"] } : {}),
    // AUTH only after STARTTLS, as providers require.
    allowInsecureAuth: false,
    disabledCommands: tls ? [] : ["AUTH", "STARTTLS"],
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (auth.method !== "XOAUTH2") return callback(null, { user: auth.username }); // any password
      const verdict = checkToken?.(auth.accessToken ?? "", auth.username ?? "");
      if (verdict?.ok) return callback(null, { user: auth.username });
      const why = verdict ? verdict.reason : "no token endpoint runs here";
      callback(Object.assign(new Error(`5.7.3 Authentication unsuccessful (${why})`), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        capture(Buffer.concat(chunks), envelope).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  const connections = (server as unknown as { connections: Set<OpenConnection> }).connections;
  return {
    port: address.port,
    messages,
    status: () => ({ limits: { ...limits }, stats: { ...limiter.stats }, captured: nextId - 1 }),
    setLimits(change) {
      const wasDown = limits.down;
      limits = { ...limits, ...change };
      apply();
      // A provider going down drops its open sessions too, as RFC 5321 allows at any time.
      if (limits.down && !wasDown) for (const c of connections) c.send(421, OUTAGE_REPLY, false);
      return { ...limits };
    },
    onMessage: (l) => listeners.push(l),
    deliver: capture,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
