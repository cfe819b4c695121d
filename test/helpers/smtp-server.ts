/**
 * Real SMTP servers for tests (the `smtp-server` package) on 127.0.0.1, with the behaviours the
 * SMTP core must handle: implicit TLS, STARTTLS offered or not, AUTH PLAIN/LOGIN, recipients
 * that fail temporarily or permanently, a server that stalls after DATA. Every message and
 * connection it saw is recorded.
 */
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { createSmtpLimits, type SmtpLimits, type SmtpLimitsOptions } from "../../local/smtp-limits.ts";

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  secure: boolean;
  user?: string;
}

export interface TestSmtpServerOptions {
  /** Implicit TLS from the first byte. */
  secure?: boolean;
  /** Key and certificate for TLS and STARTTLS. Default: smtp-server's built-in self-signed one. */
  tls?: { key: string; cert: string };
  /** Do not offer STARTTLS (and refuse it if asked). */
  noStartTls?: boolean;
  /** username → password. Without it (and without `xoauth2`), AUTH is not offered. */
  users?: Record<string, string>;
  authMethods?: Array<"PLAIN" | "LOGIN" | "XOAUTH2">;
  /**
   * Accept XOAUTH2 tokens this check accepts, as a provider's server does: a refusal answers as
   * Microsoft's (`535 5.7.3 Authentication unsuccessful`) or Google's (a 334 error challenge,
   * then 535) server does.
   */
  xoauth2?: {
    check: (token: string, user: string) => { ok: true } | { ok: false; reason: string };
    refusal: "microsoft" | "google";
  };
  /** Addresses whose RCPT TO gets this reply code. */
  rcptReplies?: Record<string, { code: number; message: string }>;
  /** Every AUTH (PLAIN, LOGIN) gets this refusal, as a provider's policy answers: 535 5.7.139, 534 5.7.9… */
  authReply?: { code: number; message: string };
  /** Every MAIL FROM gets this refusal: 432 4.3.2 STOREDRV.ClientSubmit, 550 5.4.5 Daily… */
  mailFromReply?: { code: number; message: string };
  /** Every message's final dot gets this refusal: 550 5.7.60 SendAsDenied… */
  dataReply?: { code: number; message: string };
  /** Accept the message data but never answer the final dot. */
  stallAfterData?: boolean;
  /** Accept this many messages, then take the data of the others and never answer their final dot. */
  stallAfterMessages?: number;
  /** Never answer MAIL FROM. */
  stallAtMailFrom?: boolean;
  /** Play a broken server that quotes the credentials (raw, base64, as the PLAIN token, the XOAUTH2 token and its string) in its refusal. */
  echoCredentials?: boolean;
  /** Wait this long before greeting, as many MTAs do. */
  greetingDelayMs?: number;
  /** Advertised SIZE limit in bytes. */
  size?: number;
  /** Close a connection idle this long, as servers do (smtp-server's default is 60 s). */
  socketTimeoutMs?: number;
  /** Refuse MAIL FROM before STARTTLS, as a submission port does: `530 5.7.0 Must issue a STARTTLS command first`. */
  requireTlsForMail?: boolean;
  /**
   * Refuse RCPT when the EHLO name is not fully qualified, as Postfix's
   * reject_non_fqdn_helo_hostname does (checked at RCPT, with smtpd_delay_reject).
   */
  strictHelo?: boolean;
  /** A provider's limits: a rate (454 at MAIL FROM), a connection limit (421 at the greeting). */
  limits?: SmtpLimitsOptions;
}

export interface TestSmtpServer {
  port: number;
  messages: ReceivedMessage[];
  /** TCP connections accepted so far. */
  connections: () => number;
  /** Connections closed so far. */
  closed: () => number;
  /** AUTH attempts: the mechanism used each time. */
  authAttempts: string[];
  /** The provider limits in force (refusals counted), when `limits` was given. */
  limits?: SmtpLimits;
  close(): Promise<void>;
}

export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const authAttempts: string[] = [];
  let connections = 0;
  let closed = 0;
  const limits = options.limits ? createSmtpLimits(options.limits) : undefined;
  const config: SMTPServerOptions = {
    secure: options.secure ?? false,
    ...(options.tls ?? {}),
    logger: false,
    // No reverse DNS per connection: nothing leaves the machine, and greetings come at once.
    disableReverseLookup: true,
    // close() ends lingering sessions (a stalled DATA) after this long. Sockets are never torn
    // down from below: destroying the TCP socket under a TLS handshake crashes Node.
    closeTimeout: 200,
    disabledCommands: [
      ...(options.users || options.xoauth2 ? [] : ["AUTH"]),
      ...(options.noStartTls ? ["STARTTLS"] : []),
    ],
    hideSTARTTLS: options.noStartTls ?? false,
    authMethods:
      options.authMethods ?? (options.xoauth2 ? ["PLAIN", "LOGIN", "XOAUTH2"] : ["PLAIN", "LOGIN"]),
    allowInsecureAuth: false,
    authOptional: true,
    ...(options.size ? { size: options.size } : {}),
    ...(options.socketTimeoutMs ? { socketTimeout: options.socketTimeoutMs } : {}),
    onConnect(_session, callback) {
      connections++;
      // smtp-server greets once onConnect calls back: a delay here is a slow greeting.
      if (options.greetingDelayMs) setTimeout(callback, options.greetingDelayMs);
      else callback();
    },
    onClose() {
      closed++;
    },
    onAuth(auth, _session, callback) {
      authAttempts.push(auth.method);
      if (auth.method === "XOAUTH2" && options.xoauth2) {
        const verdict = options.xoauth2.check(auth.accessToken ?? "", auth.username ?? "");
        if (verdict.ok) return callback(null, { user: auth.username });
        if (options.xoauth2.refusal === "google")
          return callback(null, {
            data: { status: "400", schemes: "Bearer", scope: "https://mail.google.com/" },
          });
        const token = auth.accessToken ?? "";
        const sasl = Buffer.from(`user=${auth.username}\x01auth=Bearer ${token}\x01\x01`).toString("base64");
        const quoted = options.echoCredentials ? ` for ${token} ${sasl}` : "";
        return callback(
          Object.assign(
            new Error(`5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]${quoted}`),
            { responseCode: 535 },
          ),
        );
      }
      if (options.authReply) {
        return callback(
          Object.assign(new Error(options.authReply.message), { responseCode: options.authReply.code }),
        );
      }
      const expected = options.users?.[auth.username ?? ""];
      if (expected !== undefined && auth.password === expected)
        return callback(null, { user: auth.username });
      const b64 = (t: string) => Buffer.from(t).toString("base64");
      const quoted = options.echoCredentials
        ? ` for ${auth.password} ${b64(auth.password ?? "")} ${b64(`\0${auth.username}\0${auth.password}`)}`
        : "";
      return callback(
        Object.assign(new Error(`Invalid username or password${quoted}`), { responseCode: 535 }),
      );
    },
    onMailFrom(_address, session, callback) {
      if (options.requireTlsForMail && !session.secure) {
        return callback(
          Object.assign(new Error("5.7.0 Must issue a STARTTLS command first"), { responseCode: 530 }),
        );
      }
      if (options.mailFromReply) {
        return callback(
          Object.assign(new Error(options.mailFromReply.message), {
            responseCode: options.mailFromReply.code,
          }),
        );
      }
      if (!options.stallAtMailFrom) callback();
    },
    onRcptTo(address, session, callback) {
      const helo = session.hostNameAppearsAs;
      if (options.strictHelo && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(helo)) {
        return callback(
          Object.assign(new Error(`5.5.2 <${helo}>: Helo command rejected: need fully-qualified hostname`), {
            responseCode: 504,
          }),
        );
      }
      const reply = options.rcptReplies?.[address.address];
      if (reply) return callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          ...(session.user ? { user: String(session.user) } : {}),
        });
        if (options.dataReply) {
          callback(
            Object.assign(new Error(options.dataReply.message), { responseCode: options.dataReply.code }),
          );
        } else if (
          !options.stallAfterData &&
          !(options.stallAfterMessages !== undefined && messages.length > options.stallAfterMessages)
        ) {
          callback();
        }
      });
    },
  };
  const server = new SMTPServer(limits ? { ...config, ...limits.hooks(config) } : config);
  server.on("error", () => {});
  const tcp = (server as unknown as { server: Server }).server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    messages,
    connections: () => connections,
    closed: () => closed,
    authAttempts,
    ...(limits ? { limits } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** Accepts TCP connections and never says a word: a host that never greets. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
