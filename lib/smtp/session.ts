/**
 * One SMTP session, opened stage by stage exactly as EmailSettings say:
 *
 *   config → dns → connect → tls (ConnectionSecurity TLS) → greeting → starttls (STARTTLS) → auth
 *
 * then used to send messages, probed while idle, and closed: this file is the session's life
 * cycle (one file of about 310 lines: opening with its sign-in, each transaction, the probe and
 * the ending share the session's state, and read best together). DNS, TCP and implicit TLS are done in
 * connection.ts so each stage is timed and named; the SMTP dialogue itself (greeting, EHLO,
 * STARTTLS, AUTH, MAIL/RCPT/DATA) is nodemailer's SMTPConnection, handed the open socket
 * (dialogue.ts). SMTPServerTimeout bounds each operation
 * (opening the session, sending one message): every stage gets what is left of it, and a guard a
 * little past it ends the exchange however the server behaves (stages.ts).
 */
import type { Socket } from "node:net";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import { type AccessTokens, createAccessTokens } from "../oauth2/index.ts";
import { type EmailSettings, isOAuth2Method, sendingRequirements } from "../settings/index.ts";
import { withTimeout } from "../timeouts.ts";
import {
  type CertificateAuthorities,
  connectAny,
  type HostResolver,
  resolveHost,
  upgradeToTls,
} from "./connection.ts";
import { checkEnvelope, settle, smtpConnection, startDialogue, type TokenSignIn } from "./dialogue.ts";
import { defaultEhloName } from "./ehlo.ts";
import { SmtpStageError } from "./errors.ts";
import type { ComposedMessage } from "./message.ts";
import { takePreconnected } from "./preconnect.ts";
import { bounded, type StageListener, stageClock } from "./stages.ts";

export interface SmtpSessionOptions {
  /** EHLO name. Default: FeedbackEmail's domain (ehlo.ts says why not `localhost`). */
  ehloName?: string;
  /** Extra certificate authorities to trust (a private CA; the tests' CA). Default: Node's roots. */
  ca?: CertificateAuthorities;
  /** Adopt a connection preconnected during the cold start when it matches. Default true. */
  preconnected?: boolean;
  /** Told when each stage completes, with its duration in ms: the connection check's timings. */
  onStage?: StageListener;
  /** Resolves SMTPServer. Default: the system resolver (every address it has). */
  resolver?: HostResolver;
  /**
   * Access tokens for SMTPAuthMethod oauth2-*: the container's cache, whose `onToken` keeps them
   * out of its logs. Default: one cache for this process.
   */
  tokens?: AccessTokens;
}

let processTokens: AccessTokens | undefined;
const defaultTokens = (): AccessTokens => {
  processTokens ??= createAccessTokens();
  return processTokens;
};

/**
 * The sign-in's tokens: the fetch starts now, with the connection, so AUTH does not wait for it
 * (the token endpoint's round trips overlap the connect, EHLO, STARTTLS and TLS handshake).
 */
function startSignIn(
  settings: EmailSettings,
  tokens: AccessTokens,
  timeoutMs: number,
): TokenSignIn | undefined {
  if (!settings.EnableSMTPAuth || !isOAuth2Method(settings.SMTPAuthMethod)) return undefined;
  const first = tokens.get(settings, { timeoutMs });
  first.catch(() => {}); // awaited in the token stage; a failure before it is reported there
  return { first, refresh: () => tokens.get(settings, { timeoutMs, refresh: true }), sent: [] };
}

export interface SendResult {
  messageId: string;
  /** The server's final reply to DATA, e.g. "250 OK: queued as 123". */
  response: string;
  accepted: string[];
  rejected: string[];
  /** How long the transaction took, MAIL FROM to the final reply (an API call through SES), in ms. */
  transactionMs?: number;
}

export interface SmtpSession {
  send(message: ComposedMessage): Promise<SendResult>;
  /** MAIL FROM and RCPT TO, then RSET: the server's verdict on an envelope, nothing sent. Bounded. */
  checkEnvelope(from: string, to: string): Promise<void>;
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

/** How long QUIT may wait for the server's goodbye before the socket is closed anyway. */
const QUIT_WAIT_MS = 1000;

/** The server answered a transaction command with a refusal that leaves the session open. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof SmtpStageError &&
    error.responseCode !== undefined &&
    error.responseCode !== 421 &&
    (error.stage === "mail-from" || error.stage === "rcpt" || error.stage === "data")
  );
}

/**
 * Fails before any byte is sent when the settings cannot be honoured safely or cannot sign in
 * (lib/settings/requirements.ts): every rule broken, in one message.
 */
export function checkSessionConfig(settings: EmailSettings): void {
  const broken = sendingRequirements(settings);
  const [first] = broken;
  if (first) {
    throw new SmtpStageError(broken.map((r) => r.message).join("; "), {
      stage: "config",
      code: first.code,
      transient: false,
    });
  }
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
  const signIn = startSignIn(settings, options.tokens ?? defaultTokens(), timeoutMs);
  const sentSecrets = () => signIn?.sent ?? [];
  let socket: Socket | undefined;
  let connection: SMTPConnection | undefined;
  let broken = false;
  const abort = () => {
    broken = true;
    connection?.close();
    socket?.destroy();
  };

  try {
    await bounded(
      settings,
      clock,
      abort,
      async (remaining) => {
        const addresses = adopted
          ? []
          : await resolveHost(settings.SMTPServer, remaining(), options.resolver);
        clock.enter("connect");
        socket = adopted ? await adopted : await connectAny(addresses, settings.SMTPPort, remaining);
        if (settings.ConnectionSecurity === "TLS") {
          clock.enter("tls");
          socket = await upgradeToTls(socket, settings, options.ca, remaining());
        }

        clock.enter("greeting");
        const conn = smtpConnection(socket, settings, {
          ehloName: options.ehloName ?? defaultEhloName(settings),
          ca: options.ca,
          remaining,
          clock,
          ...(signIn ? { signIn } : {}),
        });
        connection = conn;
        // An idle pooled session may time out or be dropped by the server between messages.
        conn.on("error", () => {
          broken = true;
        });
        conn.on("end", () => {
          broken = true;
        });
        await startDialogue(conn, settings, clock, signIn);
        clock.finish();
      },
      sentSecrets,
    );
  } catch (error) {
    // Whatever failed (AUTH refused, no upgrade), the socket must not outlive the attempt.
    abort();
    throw error;
  }

  const live = connection as SMTPConnection;
  /** RSET, bounded by SMTPServerTimeout: true when the server answered 250. */
  const reset = () =>
    withTimeout(
      settle(live, (cb) => live.reset(cb)),
      timeoutMs,
      "RSET",
    ).then(
      () => true,
      () => false,
    );
  /**
   * Ends the session as a client should: QUIT, bounded by a short wait (a server that is gone or
   * stalled does not hold the batch), then the socket is closed. Never throws.
   */
  const end = async () => {
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
        Math.min(timeoutMs, QUIT_WAIT_MS),
      );
      live.once("end", () => {
        clearTimeout(timer);
        resolve();
      });
      live.quit();
    });
    socket?.destroy();
  };
  /** One transaction (MAIL… to its end), bounded by SMTPServerTimeout. */
  const transaction = async <T>(run: () => Promise<T>): Promise<T> => {
    if (broken) {
      throw new SmtpStageError("the SMTP connection was closed: open a new session", {
        stage: "connect",
        code: "ECONNECTION",
        transient: true,
      });
    }
    clock.restart("mail-from");
    try {
      return await bounded(
        settings,
        clock,
        abort,
        async () => {
          const result = await run();
          clock.finish();
          return result;
        },
        sentSecrets,
      );
    } catch (error) {
      // A refusal the server answered (MAIL, RCPT, DATA) leaves the session usable: RSET and go
      // on, so one bad recipient does not cost a connection. A 421 (the server is closing), a
      // dropped connection or a timeout ends it (after a timeout the socket is already gone: a
      // server that stopped answering would not read a QUIT).
      if (!broken && isRefusal(error) && (await reset())) throw error;
      await end();
      throw error;
    }
  };
  return {
    get usable() {
      return !broken;
    },
    async send(message) {
      return transaction(async () => {
        const started = performance.now();
        const info = await settle<SMTPConnection.SentMessageInfo>(live, (cb) =>
          live.send(message.envelope, message.raw, cb),
        );
        return {
          messageId: message.messageId,
          response: info.response ?? "",
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
          transactionMs: performance.now() - started,
        };
      });
    },
    checkEnvelope(from, to) {
      return transaction(() => checkEnvelope(live, from, to));
    },

    async probe() {
      if (broken) return false;
      const alive = await reset();
      if (!alive) await end();
      return alive;
    },
    close: end,
  };
}
