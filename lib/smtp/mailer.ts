/**
 * A mailer for one batch: messages share a small pool of SMTP sessions (one by default), opened
 * on first use and closed by close(), so no connection is left half-open across a Lambda freeze.
 */
import type { EmailSettings } from "../settings/index.ts";
import { SmtpStageError } from "./errors.ts";
import { composeMessage, type OutgoingMessage } from "./message.ts";
import { openSmtpSession, type SendResult, type SmtpSession, type SmtpSessionOptions } from "./session.ts";

export interface MailerOptions extends SmtpSessionOptions {
  /** Sessions (connections) used at once. Default 1: the whole batch goes over one connection. */
  poolSize?: number;
  /** Date header clock; injectable for tests. Default: now. */
  now?: () => Date;
}

export interface Mailer {
  /** Validates and composes (InvalidMessageError), then sends over a pooled session (SmtpStageError). */
  send(message: OutgoingMessage): Promise<SendResult>;
  /** Closes every session; later sends fail. */
  close(): Promise<void>;
  /** Sessions opened so far: 1 for a healthy batch with the default pool size. */
  readonly sessionsOpened: number;
}

export function createMailer(settings: EmailSettings, options: MailerOptions = {}): Mailer {
  const poolSize = Math.max(1, options.poolSize ?? 1);
  const idle: SmtpSession[] = [];
  const waiting: Array<(session: SmtpSession | null) => void> = [];
  let busy = 0;
  let opened = 0;
  let closed = false;
  /** Once a session cannot be opened, the rest of the batch fails fast instead of waiting T each. */
  let openFailure: SmtpStageError | undefined;

  async function acquire(): Promise<SmtpSession | null> {
    for (;;) {
      const session = idle.pop();
      if (!session) break;
      if (session.usable) return session;
    }
    if (busy < poolSize) return null; // caller opens a new one
    return new Promise((resolve) => waiting.push(resolve));
  }

  function release(session: SmtpSession | null) {
    const next = waiting.shift();
    if (next) {
      next(session?.usable ? session : null);
      return;
    }
    busy--;
    if (session?.usable) idle.push(session);
  }

  return {
    get sessionsOpened() {
      return opened;
    },
    async send(message) {
      if (closed) throw new Error("mailer is closed");
      const composed = await composeMessage(settings, message, options.now ? { now: options.now() } : {});
      if (openFailure) throw openFailure;
      let session = await acquire();
      if (!session) busy++;
      try {
        if (openFailure) throw openFailure;
        if (!session?.usable) {
          try {
            opened++;
            session = await openSmtpSession(settings, options);
          } catch (error) {
            if (error instanceof SmtpStageError) openFailure = error;
            throw error;
          }
        }
        return await session.send(composed);
      } finally {
        release(session);
      }
    },
    async close() {
      closed = true;
      for (const resolve of waiting.splice(0)) resolve(null);
      await Promise.all(idle.splice(0).map((s) => s.close()));
    },
  };
}
