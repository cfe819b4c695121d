/**
 * Keeps SMTP sessions open between the warm invocations of one Lambda container, so a batch does
 * not pay for connect, TLS, AUTH and the server's greeting delay every time.
 *
 * A kept session is never trusted blindly: one idle longer than `maxIdleMs` (a Lambda freeze, a
 * server's idle timeout) is closed rather than reused, and any other idle for more than a moment
 * is probed with RSET before use. A kept session also ends when it has been idle for
 * SMTPServerTimeout (nodemailer's socket timeout), so the effective keep-alive is the shorter of
 * the two; such a session is found unusable and replaced, never used. A session the server dropped while the container was frozen is therefore discarded, and a
 * fresh one opened, before a message depends on it.
 */
import { createHash } from "node:crypto";
import type { EmailSettings } from "../settings/index.ts";
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

/** Everything a session was opened with; the password only as a hash. */
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
        s.SMTPServerTimeout,
        o.ehloName ?? "",
        o.ca === undefined ? "" : String(o.ca),
      ]),
    )
    .digest("hex");
}

export function createSessionKeeper({
  maxIdleMs = 30_000,
  probeAfterMs = 2_000,
  now = Date.now,
}: SessionKeeperOptions = {}): SessionKeeper {
  let idle: Array<{ key: string; session: SmtpSession; since: number }> = [];
  return {
    get size() {
      return idle.length;
    },
    async take(settings, options) {
      const key = fingerprint(settings, options);
      // Sessions for other settings (the settings changed) or idle too long are closed, not reused.
      const stale = idle.filter((e) => e.key !== key || now() - e.since > maxIdleMs || !e.session.usable);
      idle = idle.filter((e) => !stale.includes(e));
      await Promise.all(stale.map((e) => e.session.close()));
      for (let entry = idle.pop(); entry; entry = idle.pop()) {
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
      idle.push({ key: fingerprint(settings, options), session, since: now() });
    },
    async closeAll() {
      const all = idle;
      idle = [];
      await Promise.all(all.map((e) => e.session.close()));
    },
  };
}
