/**
 * A gate before each new SMTP connection: the fleet's count of connections (for a provider whose
 * connection limit nobody configured, lib/notifications/connection-leases.ts). The mailer asks it
 * for a lease before it connects, and the lease lives exactly as long as the session: a session
 * closed by its batch, by the keeper after its idle time, or because it failed releases it; a
 * session whose lease was lost (expired during a freeze, taken back by the fleet) is not reused.
 * Kept apart from the mailer so the lease's life is one wrapper, whoever closes the session.
 */
import type { SmtpSession } from "./session.ts";

export interface ConnectionLease {
  /** False once the lease was lost: its session must not be used again. */
  readonly held: boolean;
  /** The server greeted the connection: the provider counts it now. */
  opened(): void;
  /** The server refused this lease's connection for its connection limit: learn from it, and release. */
  refused(): Promise<void>;
  /** The session ended: the connection is free for another container. Never throws. */
  release(): Promise<void>;
  /**
   * Whether an idle session may be kept for the container's next batch; if not, it closes at the
   * end of its batch (once the fleet is under a connection limit, a kept session would hold one of
   * its connections, uncounted, through a Lambda freeze).
   */
  keepable(): Promise<boolean>;
}

export interface ConnectionGate {
  /**
   * Waits for a connection the fleet may open, while `mayWait()` is true; then throws a
   * NotStartedError. A gate whose store does not answer lets the connection open unleased.
   */
  acquire(mayWait: () => boolean): Promise<ConnectionLease>;
}

/** A session that holds a lease: closing it releases the lease; a lost lease makes it unusable. */
export interface LeasedSession extends SmtpSession {
  readonly lease: ConnectionLease;
}

export function leasedSession(session: SmtpSession, lease: ConnectionLease): LeasedSession {
  lease.opened();
  return {
    lease,
    send: (message) => session.send(message),
    checkEnvelope: (from, to) => session.checkEnvelope(from, to),
    probe: () => session.probe(),
    get usable() {
      return session.usable && lease.held;
    },
    async close() {
      // The provider counts the connection until it is closed: the lease goes after it.
      await session.close();
      await lease.release();
    },
  };
}

export const isLeased = (session: SmtpSession): session is LeasedSession => "lease" in session;
