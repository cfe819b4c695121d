/**
 * Keeps SMTP sessions open between the warm invocations of one Lambda container, so a batch does
 * not pay for connect, TLS, AUTH and the server's greeting delay every time.
 *
 * A kept session is never trusted blindly: one idle longer than `maxIdleMs` (a Lambda freeze, a
 * server's idle timeout) is closed rather than reused, and any other idle for more than a moment
 * is probed with RSET before use. A kept session is ended with QUIT when its keep-alive is over:
 * at `maxIdleMs`, or just before SMTPServerTimeout (nodemailer's idle socket timeout would drop it
 * without a word), whichever is shorter. A Lambda freeze stops that timer; a session the server
 * dropped meanwhile is found unusable or fails its probe, and a fresh one is opened before a
 * message depends on it.
 */
import { createHash } from "node:crypto";
import type { EmailSettings } from "../settings/index.ts";
import { defaultEhloName } from "./ehlo.ts";
import type { SmtpSession, SmtpSessionOptions } from "./session.ts";

export interface SessionKeeperOptions {
  /** Longest idle time after which a session is closed instead of reused. Default 30 s. */
  maxIdleMs?: number;
  /**
   * A session idle less than this is reused without the RSET probe: no server drops a connection
   * that fast, and a container frozen that briefly cannot have outlived a server's idle timeout.
   * Default 2 s.
   */
  probeAfterMs?: number;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
}

export interface SessionKeeper {
  /** A live idle session opened with exactly these settings, or undefined. */
  take(settings: EmailSettings, options: SmtpSessionOptions): Promise<SmtpSession | undefined>;
  /** Hands a session back for a later batch (it is closed if it is not usable). */
  keep(settings: EmailSettings, options: SmtpSessionOptions, session: SmtpSession): void;
  closeAll(): Promise<void>;
  /** Sessions idle now. */
  readonly size: number;
}

/** Everything a session was opened with (who it signed in as, and how); the secrets only as a hash. */
function fingerprint(s: EmailSettings, o: SmtpSessionOptions): string {
  return createHash("sha256")
    .update(
      JSON.stringify([
        s.SMTPServer,
        s.SMTPPort,
        s.ConnectionSecurity,
        s.SkipServerCertificateVerification,
        s.EnableSMTPAuth,
        s.SMTPUsername,
        s.SMTPPassword,
        s.SMTPAuthMethod,
        s.OAuth2TenantId,
        s.OAuth2ClientId,
        s.OAuth2ClientSecret,
        s.OAuth2ClientCertificate,
        s.OAuth2ServiceAccountKey,
        s.OAuth2TokenEndpoint,
        s.OAuth2Scope,
        s.SMTPServerTimeout,
        o.ehloName ?? defaultEhloName(s),
        o.ca === undefined ? "" : String(o.ca),
      ]),
    )
    .digest("hex");
}

/** How long before SMTPServerTimeout (nodemailer's idle socket timeout) a kept session is ended. */
const END_BEFORE_TIMEOUT_MS = 500;

export function createSessionKeeper({
  maxIdleMs = 30_000,
  probeAfterMs = 2_000,
  now = Date.now,
}: SessionKeeperOptions = {}): SessionKeeper {
  type Entry = { key: string; session: SmtpSession; since: number; timer: NodeJS.Timeout };
  let idle: Entry[] = [];
  const remove = (entry: Entry) => {
    clearTimeout(entry.timer);
    idle = idle.filter((e) => e !== entry);
  };
  return {
    get size() {
      return idle.length;
    },
    async take(settings, options) {
      const key = fingerprint(settings, options);
      // Sessions for other settings (the settings changed) or idle too long are closed, not reused.
      const stale = idle.filter((e) => e.key !== key || now() - e.since > maxIdleMs || !e.session.usable);
      for (const e of stale) remove(e);
      await Promise.all(stale.map((e) => e.session.close()));
      for (let entry = idle.at(-1); entry; entry = idle.at(-1)) {
        remove(entry);
        if (now() - entry.since < probeAfterMs || (await entry.session.probe())) return entry.session;
        await entry.session.close();
      }
      return undefined;
    },
    keep(settings, options, session) {
      if (!session.usable) {
        void session.close();
        return;
      }
      // At the end of its keep-alive the session is ended as a client should end it, with QUIT,
      // and before the server's or nodemailer's idle timeout (SMTPServerTimeout) drops it silently.
      const lifetime = Math.max(
        1,
        Math.min(maxIdleMs, settings.SMTPServerTimeout * 1000 - END_BEFORE_TIMEOUT_MS),
      );
      const entry: Entry = {
        key: fingerprint(settings, options),
        session,
        since: now(),
        timer: setTimeout(() => {
          if (!idle.includes(entry)) return;
          remove(entry);
          void session.close();
        }, lifetime),
      };
      // A kept session must not keep a process (a test, the local run) alive on its own.
      entry.timer.unref();
      idle.push(entry);
    },
    async closeAll() {
      const all = idle;
      for (const e of all) clearTimeout(e.timer);
      idle = [];
      await Promise.all(all.map((e) => e.session.close()));
    },
  };
}
