/**
 * The load test's email provider: a real SMTP server (smtp-server) on 127.0.0.1 that enforces a
 * send rate and a connection limit with the product's own provider hooks (local/smtp-limits.ts:
 * SES's 454 at MAIL FROM, Postfix's 421 at the greeting, 421 while down), can refuse the sender
 * (a relay's `553 5.7.1` at MAIL FROM, a settings refusal), and records every
 * message it accepted (its Message-ID header and when its MAIL FROM went through the limiter)
 * and every refusal. Times are epoch milliseconds, comparable with SQS's timestamps and with the
 * poller's receive history.
 */
import type { Server } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { createSmtpLimits, type SmtpLimits } from "../../../local/smtp-limits.ts";

export interface ProviderOptions {
  /** Messages a second the provider accepts (the fleet's limit); unset: none. */
  ratePerSecond?: number;
  /** Tokens the provider's bucket saves up. Default (createSmtpLimits): max(1, ratePerSecond). */
  burst?: number;
  /** SMTP connections open at once; unset: none. */
  maxConnections?: number;
}

export interface AcceptedMessage {
  /** The Message-ID header, brackets included, as sent. */
  messageId: string;
  recipients: string[];
  /** When the limiter let its MAIL FROM through: the moment the provider counts it. */
  mailFromAt: number;
  /** When the server answered 250 to its data. */
  acceptedAt: number;
  /** smtp-server's session id: which connection carried it. */
  session: string;
}

export type RefusalKind = "throttle" | "connections" | "outage" | "sender";

export interface Refusal {
  at: number;
  kind: RefusalKind;
  /** `454 Throttling failure…`, `421 4.7.0 Error: too many connections…`, `421 4.3.2 Service not available…`, or the sender's refusal. */
  reply: string;
  session: string;
}

export interface Provider {
  port: number;
  limits: SmtpLimits;
  accepted: AcceptedMessage[];
  refusals: Refusal[];
  /** Every MAIL FROM the limiter saw (accepted or refused): the rate the fleet offered. */
  mailFromAttempts: number[];
  /** Connections the server saw (refused ones included). */
  connections(): number;
  /** Sessions open now, most seen at once. */
  openSessions(): { now: number; peak: number };
  /** Sessions dropped with 421 when an outage began. */
  droppedAtOutage(): number;
  /**
   * A provider outage: from now on every new connection is refused with 421 at the greeting, and
   * the sessions open now are told 421 and closed (a relay that goes down does not keep serving
   * the connections it had). `false` ends it.
   */
  setDown(down: boolean): void;
  /**
   * A relay that refuses the sender (a settings refusal, e.g. `553 5.7.1 <…>: Sender address
   * rejected: not owned by user`): every MAIL FROM is answered `reply` (before the rate limiter, so
   * it costs no token) until called with undefined.
   */
  refuseSender(reply: string | undefined): void;
  close(): Promise<void>;
}

const MESSAGE_ID = /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im;

/** The Message-ID header of a raw message (headers end at the first empty line). */
export function messageIdOf(raw: string): string {
  const headers = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  return MESSAGE_ID.exec(headers)?.[1]?.replace(/\s+/g, "").trim() ?? "";
}

const replyOf = (error: Error & { responseCode?: number }) => `${error.responseCode ?? 554} ${error.message}`;

export async function startProvider(options: ProviderOptions = {}): Promise<Provider> {
  const limits = createSmtpLimits({
    ...(options.ratePerSecond !== undefined ? { ratePerSecond: options.ratePerSecond } : {}),
    ...(options.burst !== undefined ? { burst: options.burst } : {}),
    ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
  });
  const accepted: AcceptedMessage[] = [];
  const refusals: Refusal[] = [];
  const mailFromAttempts: number[] = [];
  /** session id → when its current transaction's MAIL FROM went through. */
  const mailFromAt = new Map<string, number>();
  let connections = 0;
  /** Sessions past the limits' greeting check (refused ones close too, but were never open). */
  const open = new Set<string>();
  let peakOpen = 0;
  let down = false;
  let dropped = 0;
  let senderRefusal: { code: number; text: string } | undefined;

  const hooks = limits.hooks({
    onConnect(session, callback) {
      open.add(session.id);
      peakOpen = Math.max(peakOpen, open.size);
      callback();
    },
    onClose(session) {
      open.delete(session.id);
    },
    onMailFrom(_address, session, callback) {
      mailFromAt.set(session.id, Date.now());
      callback();
    },
  });

  const config: SMTPServerOptions = {
    logger: false,
    secure: false,
    // Plain SMTP without AUTH, as a relay inside a VPC: the product's ConnectionSecurity "".
    disabledCommands: ["AUTH", "STARTTLS"],
    hideSTARTTLS: true,
    authOptional: true,
    disableReverseLookup: true,
    closeTimeout: 500,
    onConnect(session, callback) {
      connections++;
      hooks.onConnect?.(session, (error) => {
        if (error) {
          refusals.push({
            at: Date.now(),
            kind: down ? "outage" : "connections",
            reply: replyOf(error),
            session: session.id,
          });
        }
        callback(error);
      });
    },
    onClose(session, server) {
      hooks.onClose?.(session, server);
    },
    onMailFrom(address, session, callback) {
      mailFromAttempts.push(Date.now());
      if (senderRefusal) {
        const { code, text } = senderRefusal;
        refusals.push({ at: Date.now(), kind: "sender", reply: `${code} ${text}`, session: session.id });
        return callback(Object.assign(new Error(text), { responseCode: code }));
      }
      hooks.onMailFrom?.(address, session, (error) => {
        if (error)
          refusals.push({ at: Date.now(), kind: "throttle", reply: replyOf(error), session: session.id });
        callback(error);
      });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        accepted.push({
          messageId: messageIdOf(Buffer.concat(chunks).toString("latin1")),
          recipients: session.envelope.rcptTo.map((r) => r.address),
          mailFromAt: mailFromAt.get(session.id) ?? Date.now(),
          acceptedAt: Date.now(),
          session: session.id,
        });
        mailFromAt.delete(session.id);
        callback();
      });
    },
  };
  const server = new SMTPServer(config);
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = (server as unknown as { server: Server }).server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const live = server as unknown as { connections: Set<{ send(code: number, text: string): void }> };

  return {
    port,
    limits,
    accepted,
    refusals,
    mailFromAttempts,
    connections: () => connections,
    openSessions: () => ({ now: open.size, peak: peakOpen }),
    droppedAtOutage: () => dropped,
    setDown(value) {
      down = value;
      limits.setDown(value);
      if (!value) return;
      for (const connection of [...live.connections]) {
        dropped++;
        // smtp-server closes the connection after any 421 it sends.
        connection.send(421, "4.3.2 Service not available, closing transmission channel");
      }
    },
    refuseSender(reply) {
      const parsed = reply === undefined ? undefined : /^(\d{3}) (.*)$/s.exec(reply);
      if (reply !== undefined && !parsed) throw new Error(`not an SMTP reply: ${reply}`);
      senderRefusal = parsed ? { code: Number(parsed[1]), text: parsed[2] as string } : undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
