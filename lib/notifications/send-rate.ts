/**
 * One container's pace: at most its share of the provider's rate (SEND_RATE_PER_SECOND), a token
 * bucket shared by every session of its pool, not a fixed sleep. It adapts: a throttle reply
 * halves the rate (not below a floor) and keeps it there for a while; after that, each success
 * gives back a step, until the share is reached again. It lives as long as the container, so a
 * batch starts at the pace the last one ended with.
 */
export interface SendRateOptions {
  /** Messages a second at most: this container's share. */
  perSecond: number;
  /** Tokens saved up at most: how many sends may start at once after a pause. Default 1. */
  burst?: number;
  /** After a throttle, stay at the reduced rate this long before recovering. Default 30 s. */
  holdMs?: number;
  /** Successes it takes (after the hold) to recover one halving. Default 10. */
  successesPerStep?: number;
  /** The lowest rate a throttle may halve to, a fraction of the share. Default 1/16. */
  floor?: number;
  /** Milliseconds clock and timer; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a throttle refused: a message (for the rate), or the session (before any message). */
export type ThrottleReason = "rate" | "connection";

export interface SendRate {
  /** Waits until a send may start, then takes its token. */
  take(): Promise<void>;
  /**
   * The provider said slow down (awaited: a fleet's pace tells the other containers). `rate`: it
   * refused a message for the rate (454, 450 4.7.1); `connection`: it refused the session before
   * any message (421 at the greeting: an outage or a connection limit), which says nothing about
   * the rate, so the rate stays. Default `rate`.
   */
  throttled(reason?: ThrottleReason): void | Promise<void>;
  /** Before a connection is opened: throws when the fleet is paused (fleet-schedule.ts). */
  beforeOpen?(): Promise<void>;
  /** A message was accepted. */
  succeeded(): void;
  /** Messages a second allowed now. */
  readonly current: number;
}

/**
 * How many sends a container's own pace may start at once after a pause: two once its share is
 * two a second or more, else one. With one token a container loses what a gap between its
 * batches, or a slot another container took, costs (600 notifications at 20 a second took 1.09 ×
 * the ideal time, load test j); a second token makes it up, and the fleet's schedule, when there
 * is one, still spaces the sends. Two containers' tokens together are no more than their shares
 * add up to in a second (each share ≥ 2), so a provider's bucket of a second's worth holds them;
 * a share under 2 (SES's sandbox) keeps one: a bucket of one message refuses a second at once.
 */
export function shareBurst(perSecond: number): number {
  return perSecond >= 2 ? 2 : 1;
}

export function createSendRate(options: SendRateOptions): SendRate {
  const share = options.perSecond;
  const burst = options.burst ?? 1;
  const holdMs = options.holdMs ?? 30_000;
  const successesPerStep = options.successesPerStep ?? 10;
  const lowest = share * (options.floor ?? 1 / 16);
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  let rate = share;
  let tokens = burst;
  let refilledAt = now();
  let holdUntil = 0;
  let successes = 0;
  /** Takers queue up, so tokens go out in order and each waits for its own. */
  let queue: Promise<void> = Promise.resolve();

  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * rate);
    refilledAt = t;
  };

  return {
    get current() {
      return rate;
    },
    take() {
      const mine = queue.then(async () => {
        for (let rounds = 0; rounds < 10_000; rounds++) {
          refill();
          if (tokens >= 1) {
            tokens -= 1;
            return;
          }
          await sleep(Math.ceil(((1 - tokens) / rate) * 1000));
        }
      });
      queue = mine.catch(() => {});
      return mine;
    },
    throttled(reason = "rate") {
      if (reason === "connection") return;
      refill();
      rate = Math.max(lowest, rate / 2);
      tokens = Math.min(tokens, 0);
      holdUntil = now() + holdMs;
      successes = 0;
    },
    succeeded() {
      if (rate >= share || now() < holdUntil) return;
      if (++successes < successesPerStep) return;
      successes = 0;
      refill();
      rate = Math.min(share, rate * 2);
    },
  };
}
