/**
 * One SMTP session, opened stage by stage exactly as EmailSettings say:
 *
 *   config → dns → connect → tls (ConnectionSecurity TLS) → greeting → starttls (STARTTLS) → auth
 *
 * DNS, TCP and implicit TLS are done here so each stage is timed and named; the SMTP dialogue
 * itself (greeting, EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA) is nodemailer's SMTPConnection, handed
 * the open socket. SMTPServerTimeout bounds each operation (opening the session, sending one
 * message): every stage gets what is left of it, and a guard a little past it ends the exchange
 * however the server behaves.
 */
import { lookup } from "node:dns/promises";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { EmailSettings } from "../settings/index.ts";
import { classifySmtpError, stageOfCommand } from "./classify.ts";
import { type SmtpStage, SmtpStageError } from "./errors.ts";
import type { ComposedMessage } from "./message.ts";
import { takePreconnected } from "./preconnect.ts";

/** How far past SMTPServerTimeout the whole-operation guard fires: the stage timers fire first. */
const GUARD_SLACK_MS = 250;

export interface SmtpSessionOptions {
  /** EHLO name. Default `localhost`, as the reference uses without a site URL. */
  ehloName?: string;
  /** Extra certificate authorities to trust (a private CA; the tests' CA). Default: Node's roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Adopt a connection preconnected during the cold start when it matches. Default true. */
  preconnected?: boolean;
  /** Told when each stage completes, with its duration in ms: the connection check's timings. */
  onStage?: (stage: SmtpStage, ms: number) => void;
}

export interface SendResult {
  messageId: string;
  /** The server's final reply to DATA, e.g. "250 OK: queued as 123". */
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface SmtpSession {
  send(message: ComposedMessage): Promise<SendResult>;
  /** QUIT, then close the socket; bounded, never throws. */
  close(): Promise<void>;
  /** False once the connection failed, timed out or was closed: open a new session. */
  readonly usable: boolean;
  /**
   * RSET, bounded by SMTPServerTimeout: true when the server answered, so an idle session kept
   * across invocations (and perhaps a Lambda freeze) is known to be alive before it is used.
   */
  probe(): Promise<boolean>;
}

/**
 * Where the session is and since when: `enter` completes the current stage (reporting its
 * duration) and starts the next; `restart` starts a new operation without reporting.
 */
function stageClock(onStage: SmtpSessionOptions["onStage"]) {
  let current: SmtpStage = "dns";
  let since = performance.now();
  return {
    get current() {
      return current;
    },
    enter(next: SmtpStage) {
      if (next === current) return;
      const now = performance.now();
      onStage?.(current, now - since);
      current = next;
      since = now;
    },
    finish() {
      onStage?.(current, performance.now() - since);
    },
    restart(stage: SmtpStage) {
      current = stage;
      since = performance.now();
    },
  };
}
type StageClock = ReturnType<typeof stageClock>;

/**
 * Runs one bounded operation. Each stage's own timer gets what is left of SMTPServerTimeout; a
 * guard a little past it aborts whatever is still waiting (a server trickling replies). A
 * failure anywhere becomes an SmtpStageError for the stage the clock is in.
 */
async function bounded<T>(
  settings: EmailSettings,
  clock: StageClock,
  onTimeout: () => void,
  run: (remaining: () => number) => Promise<T>,
): Promise<T> {
  const budgetMs = settings.SMTPServerTimeout * 1000;
  const deadline = performance.now() + budgetMs;
  let guard: NodeJS.Timeout | undefined;
  const guardFired = new Promise<never>((_, reject) => {
    guard = setTimeout(() => {
      onTimeout();
      reject(
        new SmtpStageError(
          `the SMTP exchange with ${settings.SMTPServer}:${settings.SMTPPort} took longer than SMTPServerTimeout (${settings.SMTPServerTimeout} s) during ${clock.current}`,
          { stage: "timeout", code: "ETIMEDOUT", transient: true },
        ),
      );
    }, budgetMs + GUARD_SLACK_MS);
  });
  try {
    return await Promise.race([run(() => Math.max(1, Math.round(deadline - performance.now()))), guardFired]);
  } catch (error) {
    throw classifySmtpError(error, { stage: clock.current, settings });
  } finally {
    clearTimeout(guard);
  }
}

function timeoutError(what: string): Error & { code: string } {
  return Object.assign(new Error(`${what} timed out`), { code: "ETIMEDOUT" });
}

async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout?.();
          reject(timeoutError(what));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function resolveHost(host: string, ms: number): Promise<string[]> {
  if (isIP(host)) return [host];
  const found = await withTimeout(lookup(host, { all: true }), ms, "DNS lookup");
  return found.map((a) => a.address);
}

function openTcp(address: string, port: number, ms: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(timeoutError("TCP connect"));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Tries each resolved address in turn within the budget; the last error wins. */
async function connectAny(addresses: string[], port: number, remaining: () => number): Promise<Socket> {
  let lastError: unknown = new Error("no address");
  for (const address of addresses) {
    try {
      return await openTcp(address, port, remaining());
    } catch (error) {
      lastError = error;
      if ((error as { code?: string }).code === "ETIMEDOUT") break;
    }
  }
  throw lastError;
}

function tlsOptions(settings: EmailSettings, options: SmtpSessionOptions) {
  return {
    rejectUnauthorized: !settings.SkipServerCertificateVerification,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(isIP(settings.SMTPServer) ? {} : { servername: settings.SMTPServer }),
    minVersion: "TLSv1.2" as const,
  };
}

function upgradeToTls(
  socket: Socket,
  settings: EmailSettings,
  options: SmtpSessionOptions,
  ms: number,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // `host` is what the certificate is checked against; servername is only the SNI.
    const secure = tlsConnect({ socket, host: settings.SMTPServer, ...tlsOptions(settings, options) });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(timeoutError("TLS handshake"));
    }, ms);
    secure.once("secureConnect", () => {
      clearTimeout(timer);
      secure.removeAllListeners("error");
      resolve(secure);
    });
    secure.once("error", (error) => {
      clearTimeout(timer);
      secure.destroy();
      reject(error);
    });
  });
}

/** Fails before any byte is sent when the settings cannot be honoured safely. */
export function checkSessionConfig(settings: EmailSettings): void {
  if (settings.EnableSMTPAuth && settings.ConnectionSecurity === "") {
    throw new SmtpStageError(
      'EnableSMTPAuth is true but ConnectionSecurity is "": credentials are never sent over an unencrypted connection; set ConnectionSecurity to TLS or STARTTLS',
      { stage: "config", code: "EINSECUREAUTH", transient: false },
    );
  }
  if (settings.EnableSMTPAuth && (settings.SMTPUsername === "" || settings.SMTPPassword === "")) {
    throw new SmtpStageError("EnableSMTPAuth is true but SMTPUsername or SMTPPassword is empty: set both", {
      stage: "config",
      code: "ENOAUTH",
      transient: false,
    });
  }
}

/**
 * Follows nodemailer's transaction log (commands, with AUTH secrets masked, and replies) to
 * know which reply the session is waiting for, so a timeout or a dropped connection is blamed on
 * the right stage. With PIPELINING several commands go out at once: the stage is that of the
 * oldest command not answered yet.
 */
function replyTracker(onStage: (stage: SmtpStage) => void) {
  const pending: SmtpStage[] = ["greeting"]; // the greeting is awaited before any command
  let last: SmtpStage = "greeting";
  let upgraded = false;
  const stageOf = (command: string): SmtpStage => {
    const stage = stageOfCommand(command);
    if (stage === "starttls") upgraded = true;
    if (stage === "greeting" && upgraded) return "starttls";
    return stage ?? last; // AUTH LOGIN's continuation lines, RSET, QUIT
  };
  const debug = (entry: { tnx?: string } | undefined, message: unknown) => {
    if (typeof message !== "string") return;
    if (entry?.tnx === "client") {
      last = stageOf(message);
      pending.push(last);
    } else if (entry?.tnx === "server" && /^\d{3}(?: |$)/.test(message.split("\n").pop() ?? "")) {
      pending.shift(); // the last line of a complete reply
    } else {
      return;
    }
    onStage(pending[0] ?? last);
  };
  const ignore = () => {};
  return { trace: ignore, debug, info: ignore, warn: ignore, error: ignore, fatal: ignore };
}

/**
 * Runs one nodemailer call to completion. Some failures (a timer, a dropped socket) arrive only
 * as an 'error' event, never through the callback, so both are listened to.
 */
function settle<T = unknown>(
  conn: SMTPConnection,
  call: (callback: (err?: Error | null, result?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    conn.once("error", onError);
    call((err, result) => {
      conn.removeListener("error", onError);
      if (err) reject(err);
      else resolve(result as T);
    });
  });
}

/**
 * Opens a session. A connection preconnected during the cold start (preconnect.ts) for this very
 * host and port is adopted instead of connecting; should it fail before the greeting completes, a
 * fresh connection is tried once.
 */
export async function openSmtpSession(
  settings: EmailSettings,
  options: SmtpSessionOptions = {},
): Promise<SmtpSession> {
  checkSessionConfig(settings);
  const adopted =
    options.preconnected === false
      ? undefined
      : takePreconnected(settings.SMTPServer, settings.SMTPPort, settings.SMTPServerTimeout * 1000);
  if (adopted) {
    try {
      return await openOnce(settings, options, adopted);
    } catch (error) {
      if (!(error instanceof SmtpStageError) || !["connect", "greeting", "timeout"].includes(error.stage))
        throw error;
    }
  }
  return openOnce(settings, options, undefined);
}

async function openOnce(
  settings: EmailSettings,
  options: SmtpSessionOptions,
  adopted: Promise<Socket> | undefined,
): Promise<SmtpSession> {
  const timeoutMs = settings.SMTPServerTimeout * 1000;
  const clock = stageClock(options.onStage);
  let socket: Socket | undefined;
  let connection: SMTPConnection | undefined;
  let broken = false;
  const abort = () => {
    broken = true;
    connection?.close();
    socket?.destroy();
  };

  try {
    await bounded(settings, clock, abort, async (remaining) => {
      const addresses = adopted ? [] : await resolveHost(settings.SMTPServer, remaining());
      clock.enter("connect");
      socket = adopted ? await adopted : await connectAny(addresses, settings.SMTPPort, remaining);
      if (settings.ConnectionSecurity === "TLS") {
        clock.enter("tls");
        socket = await upgradeToTls(socket, settings, options, remaining());
      }

      clock.enter("greeting");
      const isTls = settings.ConnectionSecurity === "TLS";
      const conn = new SMTPConnection({
        connection: socket,
        secure: isTls,
        secured: isTls,
        host: settings.SMTPServer,
        port: settings.SMTPPort,
        name: options.ehloName ?? "localhost",
        requireTLS: settings.ConnectionSecurity === "STARTTLS",
        ignoreTLS: settings.ConnectionSecurity === "",
        tls: tlsOptions(settings, options),
        connectionTimeout: remaining(),
        greetingTimeout: remaining(),
        socketTimeout: timeoutMs,
        transactionLog: true,
        logger: replyTracker((stage) => clock.enter(stage)),
      });
      connection = conn;
      // An idle pooled session may time out or be dropped by the server between messages.
      conn.on("error", () => {
        broken = true;
      });
      conn.on("end", () => {
        broken = true;
      });
      await settle(conn, (cb) => conn.connect(cb));
      // Belt and braces: requireTLS already fails a refused upgrade; never go on in plain text.
      if (settings.ConnectionSecurity === "STARTTLS" && !conn.secure) {
        throw new SmtpStageError("the STARTTLS upgrade did not happen: refusing to continue in plain text", {
          stage: "starttls",
          code: "ETLS",
          transient: false,
        });
      }

      if (settings.EnableSMTPAuth) {
        clock.enter("auth");
        if (!conn.secure) throw new Error("refusing to authenticate over an unencrypted connection");
        await settle(conn, (cb) =>
          conn.login({ user: settings.SMTPUsername, pass: settings.SMTPPassword }, cb),
        );
      }
      clock.finish();
    });
  } catch (error) {
    // Whatever failed (AUTH refused, no upgrade), the socket must not outlive the attempt.
    abort();
    throw error;
  }

  const live = connection as SMTPConnection;
  return {
    get usable() {
      return !broken;
    },
    async send(message) {
      if (broken) {
        throw new SmtpStageError("the SMTP connection was closed: open a new session", {
          stage: "connect",
          code: "ECONNECTION",
          transient: true,
        });
      }
      clock.restart("mail-from");
      try {
        return await bounded(settings, clock, abort, async () => {
          const info = await settle<SMTPConnection.SentMessageInfo>(live, (cb) =>
            live.send(message.envelope, message.raw, cb),
          );
          clock.finish();
          return {
            messageId: message.messageId,
            response: info.response ?? "",
            accepted: (info.accepted ?? []).map(String),
            rejected: (info.rejected ?? []).map(String),
          };
        });
      } catch (error) {
        // After a failed transaction the session's state is uncertain: do not reuse it.
        abort();
        throw error;
      }
    },
    async probe() {
      if (broken) return false;
      let timer: NodeJS.Timeout | undefined;
      const alive = await Promise.race([
        settle(live, (cb) => live.reset(cb)).then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!alive) abort();
      return alive;
    },
    async close() {
      if (broken) {
        abort();
        return;
      }
      broken = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            live.close();
            resolve();
          },
          Math.min(timeoutMs, 1000),
        );
        live.once("end", () => {
          clearTimeout(timer);
          resolve();
        });
        live.quit();
      });
      socket?.destroy();
    },
  };
}
