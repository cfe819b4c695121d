/**
 * A mailer for one batch: messages share a small pool of SMTP sessions (one by default), opened
 * on first use and closed by close(), so no connection is left half-open across a Lambda freeze.
 *
 * The pool is `poolSize` slots. A send holds a slot from the moment it may start until it has
 * finished; a session is either idle (reusable) or held by exactly one send.
 *
 * One file of about 320 lines: the slots, the sessions and the batch's stop conditions (a
 * throttle, a refused connection, the fleet's connection gate, the time left) are one state
 * machine, each step reading the others' state.
 */
import type { EmailSettings } from "../settings/index.ts";
import { saysConnectionLimit } from "./classify.ts";
import { type ConnectionGate, isLeased, leasedSession } from "./connection-gate.ts";
import { SmtpStageError } from "./errors.ts";
import type { SessionKeeper } from "./keeper.ts";
import { composeMessage, type OutgoingMessage } from "./message.ts";
import { openSmtpSession, type SendResult, type SmtpSession, type SmtpSessionOptions } from "./session.ts";

export interface MailerOptions extends SmtpSessionOptions {
  /** Sessions (connections) used at once. Default 1: the whole batch goes over one connection. */
  poolSize?: number;
  /**
   * Asked when a send is about to start: false leaves it unsent with a NotStartedError, so a
   * batch stops starting work it cannot finish before the Lambda's own deadline. Default: always.
   */
  mayStart?: () => boolean;
  /**
   * Awaited right before each send starts (after its pool slot is taken and its session is
   * ready): the container's pace (lib/notifications/send-rate.ts). `mayStart` is asked again
   * after it. Default: none.
   */
  pace?: () => Promise<void>;
  /**
   * Awaited before a new session is opened (not when one is reused); its error fails the send
   * without a connection: the fleet's pause (lib/notifications/fleet-schedule.ts). Default: none.
   */
  beforeOpen?: () => Promise<void>;
  /** A new session is ready (connected, greeted, secured, signed in): how long that took, in ms. Default: none. */
  onSessionOpened?: (ms: number) => void;
  /**
   * When the server refuses a connection for its limit (a 421 at the greeting that says too many
   * connections; not an outage's 421) and this pool has no other session, wait this long (each wait ± half, at
   * random) and try again, once a wait, while a send may start: another container's session ends
   * in a moment. For a deployment that does not know the provider's connection limit (so the
   * stack could not size the fleet under it); with a known limit a refusal is an outage, and the
   * batch backs off at once. Default: none.
   */
  reopenRefusedAfterMs?: readonly number[];
  /** For the waits' jitter; injectable for tests. Default Math.random. */
  random?: () => number;
  /**
   * Asked for a lease before each new connection, which the session holds until it closes: the
   * fleet's count of connections under a limit learned from the provider
   * (lib/notifications/connection-leases.ts). Its wait ends when a send may no longer start.
   * Default: none.
   */
  gate?: ConnectionGate;
  /**
   * A refusal for the rate (a throttle at MAIL FROM or later, not a refused session) does not
   * stop the batch: its other sends go on at the pace, which has just slowed (a rate learned from
   * the provider, lib/notifications/learned-rate.ts). With a known rate a throttle is unexpected,
   * and the batch stops at once (the default).
   */
  paceAfterRateThrottle?: boolean;
  /** Date header clock; injectable for tests. Default: now. */
  now?: () => Date;
  /**
   * Sessions kept between batches (a container-level keeper): taken before opening a new one,
   * and idle sessions are handed back on close() instead of being closed. Default: none.
   */
  keeper?: SessionKeeper;
}

export interface Mailer {
  /** Validates and composes (InvalidMessageError), then sends over a pooled session (SmtpStageError). */
  send(message: OutgoingMessage): Promise<SendResult>;
  /** No new sends start; idle sessions close now, busy ones as their send ends. */
  close(): Promise<void>;
  /** Sessions opened so far: 1 for a healthy batch with the default pool size. */
  readonly sessionsOpened: number;
}

/**
 * Opening one more session was refused while others are open (by the server, or by the fleet's
 * gate, which has no connection more): wait for theirs instead.
 */
class PoolShrunk extends Error {
  readonly refusal: Error;
  constructor(refusal: Error) {
    super(refusal.message);
    this.refusal = refusal;
  }
}

/** A send that never started: too little time left, a throttle, or the mailer was closed. Always transient. */
export class NotStartedError extends Error {
  override readonly name = "NotStartedError";
  readonly transient = true;
  /** The batch stopped starting sends because the provider throttled it (or its quota is spent). */
  readonly afterThrottle: boolean;
  /** The batch stopped starting sends because the provider's daily quota is spent. */
  readonly afterQuota: boolean;
  constructor(
    message: string,
    { afterThrottle = false, afterQuota = false }: { afterThrottle?: boolean; afterQuota?: boolean } = {},
  ) {
    super(message);
    this.afterThrottle = afterThrottle || afterQuota;
    this.afterQuota = afterQuota;
  }
}

export function createMailer(settings: EmailSettings, options: MailerOptions = {}): Mailer {
  const poolSize = Math.max(1, options.poolSize ?? 1);
  const idle: SmtpSession[] = [];
  const open = new Set<SmtpSession>();
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  let held = 0;
  let opened = 0;
  let closed = false;
  /** Once a session cannot be opened, the rest of the batch fails fast instead of waiting T each. */
  let openFailure: SmtpStageError | undefined;
  /**
   * Once the provider throttles the batch, no new send starts in it: each would only add a refusal
   * (docs/delivery.md). Set before the failed send's slot passes on, so no waiter slips through.
   */
  let throttledBy: SmtpStageError | undefined;

  /** Why a send may not start now, or undefined. */
  const stopped = (): NotStartedError | undefined => {
    if (closed) return new NotStartedError("the mailer is closed");
    if (throttledBy) {
      const why = `${throttledBy.stage}: ${throttledBy.response ?? throttledBy.code}`;
      return new NotStartedError(
        throttledBy.quota
          ? `not started: the provider's daily quota is spent (${why})`
          : `not started: the provider throttled this batch (${why})`,
        { afterThrottle: true, afterQuota: throttledBy.quota },
      );
    }
    if (options.mayStart && !options.mayStart()) {
      return new NotStartedError("not started: too little time left in this invocation");
    }
    return undefined;
  };

  /**
   * Sends at once: the pool size, lowered to the sessions that are open when the server refuses
   * one more connection (a relay's connection limit) while others are healthy.
   */
  let capacity = poolSize;
  /** Sessions being opened now: a refused connection waits for them before failing the batch. */
  let opening = 0;
  const takeSlot = (): Promise<void> => {
    if (closed) return Promise.reject(new NotStartedError("the mailer is closed"));
    if (held < capacity) {
      held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  // A freed slot passes straight to the next waiter, so `held` counts slots, never sends twice;
  // past a lowered capacity it is given up instead.
  const giveSlot = () => {
    const next = held <= capacity ? waiting.shift() : undefined;
    if (next) next.resolve();
    else held--;
  };

  async function sessionForSend(): Promise<SmtpSession> {
    for (let s = idle.pop(); s; s = idle.pop()) {
      if (s.usable) return s;
      open.delete(s);
      void s.close(); // a broken one is gone already; a lease lost is released with it
    }
    const kept = await options.keeper?.take(settings, options);
    if (kept) {
      open.add(kept);
      return kept;
    }
    await options.beforeOpen?.();
    opened++;
    opening++;
    try {
      const session = await openRefusedAgain(openGated);
      open.add(session);
      return session;
    } catch (error) {
      // With other sessions of this pool open (or opening), one refused connection is the server
      // saying "no more connections": send on those. Only when there is none does the batch fail.
      const refused = error instanceof SmtpStageError || error instanceof NotStartedError;
      if (refused && open.size + opening > 1) throw new PoolShrunk(error);
      if (error instanceof SmtpStageError) openFailure = error;
      throw error;
    } finally {
      opening--;
    }
  }

  /** Whether this throttle leaves the batch going at the pace (paceAfterRateThrottle). */
  function paceAfterRateThrottle(error: SmtpStageError): boolean {
    return (
      options.paceAfterRateThrottle === true &&
      !["connect", "tls", "greeting", "starttls", "auth"].includes(error.stage)
    );
  }

  /** A new session, holding the gate's lease when there is a gate; its opening is measured after the lease's wait. */
  async function openGated(): Promise<SmtpSession> {
    // A pool that has a session waits for no lease: its sends take turns on what it has.
    const lease = await options.gate?.acquire(() => open.size === 0 && !openFailure && !stopped());
    const opening = async () => {
      const started = performance.now();
      const session = await openSmtpSession(settings, options);
      options.onSessionOpened?.(performance.now() - started);
      return session;
    };
    if (!lease) return opening();
    try {
      return leasedSession(await opening(), lease);
    } catch (error) {
      if (error instanceof SmtpStageError && error.throttle && saysConnectionLimit(error.response)) {
        await lease.refused();
      } else await lease.release();
      throw error;
    }
  }

  /** `openOne`, tried again after each of `reopenRefusedAfterMs` while its refusal is a limit and no other session is open. */
  async function openRefusedAgain(openOne: () => Promise<SmtpSession>): Promise<SmtpSession> {
    const waits = options.reopenRefusedAfterMs ?? [];
    const random = options.random ?? Math.random;
    for (let attempt = 0; ; attempt++) {
      try {
        return await openOne();
      } catch (error) {
        const wait = waits[attempt];
        const alone = open.size === 0 && opening <= 1;
        // A connection limit frees in a moment; an outage (421 4.3.2 Service not available) does not.
        const limited =
          error instanceof SmtpStageError && error.throttle && saysConnectionLimit(error.response);
        if (wait === undefined || !alone || !limited || closed || (options.mayStart && !options.mayStart())) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, wait * (0.5 + random())));
      }
    }
  }

  /** A session for this send: an idle one, a kept one, a new one, or (pool shrunk) a healthy one's turn. */
  async function sessionWhenShrunk(slot: { held: boolean }): Promise<SmtpSession> {
    for (let tries = 0; ; tries++) {
      if (openFailure) throw openFailure;
      try {
        return await sessionForSend();
      } catch (error) {
        if (!(error instanceof PoolShrunk) || tries >= poolSize)
          throw error instanceof PoolShrunk ? error.refusal : error;
        capacity = Math.max(1, open.size + opening);
        giveSlot();
        slot.held = false;
        await takeSlot(); // rejects when the mailer closes meanwhile: the slot is not ours then
        slot.held = true;
      }
    }
  }

  return {
    get sessionsOpened() {
      return opened;
    },
    async send(message) {
      const composed = await composeMessage(settings, message, options.now ? { now: options.now() } : {});
      if (openFailure) throw openFailure;
      await takeSlot();
      const slot = { held: true };
      let session: SmtpSession | undefined;
      try {
        if (openFailure) throw openFailure;
        let stop = stopped();
        if (stop) throw stop;
        session = await sessionWhenShrunk(slot);
        // Paced once the session is ready, so what the provider counts (the MAIL FROM) follows the
        // pace closely, not after a connection's opening that takes longer for the first send.
        if (options.pace) {
          await options.pace();
          stop = stopped();
          if (stop) throw stop;
        }
        return await session.send(composed);
      } catch (error) {
        if (
          error instanceof SmtpStageError &&
          (error.quota || (error.throttle && !paceAfterRateThrottle(error)))
        ) {
          throttledBy ??= error;
        }
        throw error;
      } finally {
        if (session) {
          if (session.usable && !closed) idle.push(session);
          else {
            open.delete(session);
            await session.close();
          }
        }
        if (slot.held) giveSlot();
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new NotStartedError("the mailer is closed"));
      const idleNow = idle.splice(0);
      for (const s of idleNow) open.delete(s);
      const { keeper } = options;
      await Promise.all(
        idleNow.map(async (s) => {
          // A leased connection is kept only while the fleet knows no connection limit.
          if (keeper && (!isLeased(s) || (await s.lease.keepable()))) keeper.keep(settings, options, s);
          else await s.close();
        }),
      );
    },
  };
}
