/**
 * The SMTP dialogue over an open socket: nodemailer's SMTPConnection, configured from the
 * settings, taken through greeting and EHLO, STARTTLS (ConnectionSecurity STARTTLS) and AUTH.
 * nodemailer speaks the protocol; this file decides what it may do (never fall back to plain text,
 * never authenticate unencrypted) and reports each stage as its reply is awaited (stages.ts).
 * What it needs of nodemailer beyond its public API goes through nodemailer-internals.ts.
 */
import type { Socket } from "node:net";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { AccessToken } from "../oauth2/index.ts";
import { type EmailSettings, isOAuth2Method } from "../settings/index.ts";
import { type CertificateAuthorities, tlsOptions } from "./connection.ts";
import { SmtpStageError } from "./errors.ts";
import { sendCommand, transactionLog } from "./nodemailer-internals.ts";
import { replyTracker, type StageClock } from "./stages.ts";

export interface DialogueOptions {
  /** EHLO name. */
  ehloName: string;
  ca: CertificateAuthorities | undefined;
  /** What is left of SMTPServerTimeout for opening the session, in ms. */
  remaining: () => number;
  clock: StageClock;
  /** Sign in with XOAUTH2 and these tokens (SMTPAuthMethod oauth2-*). */
  signIn?: TokenSignIn;
}

/** Where an OAuth2 sign-in gets its access token: the one being fetched, and a new one. */
export interface TokenSignIn {
  /** The token fetched while the connection opened (or the cached one). */
  first: Promise<AccessToken>;
  /** A new token, when the server refused one that came from the cache. */
  refresh: () => Promise<AccessToken>;
  /** The tokens sent so far, in every form they travelled in. */
  sent: string[];
  /** A token endpoint's failure during the exchange, kept whole for the caller to throw (nodemailer rewrites what it is given). */
  failure?: unknown;
}

/** SASL XOAUTH2's initial response: `user=<user>^Aauth=Bearer <token>^A^A`, base64. */
export const xoauth2Response = (user: string, token: string): string =>
  Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, "utf8").toString("base64");

/** Every form a token travelled in over XOAUTH2: no reply or error may carry one back out. */
export const tokenForms = (user: string, token: string): string[] => [token, xoauth2Response(user, token)];

/**
 * The name our XOAUTH2 handler is registered under in nodemailer's custom-auth hook. Not
 * "XOAUTH2": asked for that method without its own token generator, nodemailer falls back to the
 * first method the server lists (PLAIN) and never calls the handler. The handler sends the
 * standard `AUTH XOAUTH2` command itself (test/lib/smtp/xoauth2.integration.test.ts fails if a
 * nodemailer update changes this).
 */
const XOAUTH2_HANDLER = "MM-XOAUTH2";

/**
 * The XOAUTH2 exchange, through nodemailer's public custom-auth hook: the initial response;
 * on a refusal (a 334 error challenge, answered with an empty line, then 535), one more try with a
 * new token when the refused one came from the cache (it may have been revoked or expired early),
 * else the refusal stands. A token endpoint's failure is kept in `signIn.failure` for the caller
 * to throw: nodemailer would otherwise rewrite its code to EAUTH.
 */
function xoauth2(user: string, signIn: TokenSignIn) {
  return async ({ sendCommand }: SMTPConnection.CustomAuthenticationContext): Promise<void> => {
    let token = await signIn.first;
    for (let attempt = 1; ; attempt++) {
      signIn.sent.push(...tokenForms(user, token.value));
      let reply = await sendCommand(`AUTH XOAUTH2 ${xoauth2Response(user, token.value)}`);
      if (reply.status === 334) reply = await sendCommand("");
      if (reply.status >= 200 && reply.status < 300) return;
      if (attempt > 1 || !token.fromCache) throw new Error("the server refused the access token");
      try {
        token = await signIn.refresh();
      } catch (error) {
        // nodemailer rewrites what the handler throws (its code, its response, its message), so it
        // gets a stand-in and the token endpoint's own error stays whole for the caller.
        signIn.failure = error;
        throw new Error("a new access token could not be fetched");
      }
    }
  };
}

/**
 * An SMTPConnection over `socket`, not started yet, so the caller holds it (to abort it) before
 * any reply is awaited. `socket` is already TLS for ConnectionSecurity TLS.
 */
export function smtpConnection(socket: Socket, settings: EmailSettings, options: DialogueOptions) {
  const isTls = settings.ConnectionSecurity === "TLS";
  return new SMTPConnection({
    ...(options.signIn
      ? {
          customAuth: {
            [XOAUTH2_HANDLER]: xoauth2(settings.SMTPUsername, options.signIn),
          },
        }
      : {}),
    connection: socket,
    secure: isTls,
    secured: isTls,
    host: settings.SMTPServer,
    port: settings.SMTPPort,
    name: options.ehloName,
    requireTLS: settings.ConnectionSecurity === "STARTTLS",
    ignoreTLS: settings.ConnectionSecurity === "",
    tls: tlsOptions(settings, options.ca),
    connectionTimeout: options.remaining(),
    greetingTimeout: options.remaining(),
    socketTimeout: settings.SMTPServerTimeout * 1000,
    ...transactionLog(replyTracker((stage) => options.clock.enter(stage))),
  });
}

/**
 * Greeting and EHLO, the STARTTLS upgrade when the settings ask for it, then AUTH: with the
 * password, or (SMTPAuthMethod oauth2-*) with the access token, awaited in the `token` stage.
 */
export async function startDialogue(
  conn: SMTPConnection,
  settings: EmailSettings,
  clock: StageClock,
  signIn: TokenSignIn | undefined,
) {
  await settle(conn, (cb) => conn.connect(cb));
  // Belt and braces: requireTLS already fails a refused upgrade; never go on in plain text.
  if (settings.ConnectionSecurity === "STARTTLS" && !conn.secure) {
    throw new SmtpStageError("the STARTTLS upgrade did not happen: refusing to continue in plain text", {
      stage: "starttls",
      code: "ETLS",
      transient: false,
    });
  }

  if (!settings.EnableSMTPAuth) return;
  if (signIn && isOAuth2Method(settings.SMTPAuthMethod)) {
    clock.enter("token");
    await signIn.first;
    clock.enter("auth");
    if (!conn.secure) throw new Error("refusing to authenticate over an unencrypted connection");
    try {
      await settle(conn, (cb) => conn.login({ user: settings.SMTPUsername, method: XOAUTH2_HANDLER }, cb));
    } catch (error) {
      throw signIn.failure ?? error;
    }
    return;
  }
  clock.enter("auth");
  if (!conn.secure) throw new Error("refusing to authenticate over an unencrypted connection");
  await settle(conn, (cb) => conn.login({ user: settings.SMTPUsername, pass: settings.SMTPPassword }, cb));
}

/**
 * Runs one nodemailer call to completion. Some failures (a timer, a dropped socket) arrive only
 * as an 'error' event, never through the callback, so both are listened to.
 */
export function settle<T = unknown>(
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
 * One command and its reply: resolves on 2xx/3xx, rejects like nodemailer does otherwise.
 * SMTPConnection offers no public way to give MAIL and RCPT without DATA, so the command goes
 * through nodemailer's own primitives (nodemailer-internals.ts).
 */
function command(conn: SMTPConnection, line: string, name: string): Promise<string> {
  return settle<string>(conn, (cb) =>
    sendCommand(conn, line, (reply) => {
      if (/^[23]/.test(reply)) return cb(null, reply);
      const code = Number(reply.slice(0, 3));
      cb(
        Object.assign(new Error(`${name} failed: ${reply}`), {
          code: "EENVELOPE",
          response: reply,
          responseCode: Number.isFinite(code) ? code : undefined,
          command: name,
        }),
      );
    }),
  );
}

/**
 * What a real send does up to DATA, without sending: MAIL FROM the sender, RCPT TO the recipient,
 * then RSET, so "the server accepts this envelope" is known without a message being delivered.
 * One command at a time (no pipelining), so each stage is marked on its own reply.
 */
export async function checkEnvelope(conn: SMTPConnection, from: string, to: string): Promise<void> {
  await command(conn, `MAIL FROM:<${from}>`, "MAIL FROM");
  await command(conn, `RCPT TO:<${to}>`, "RCPT TO");
  await command(conn, "RSET", "RSET");
}
