/**
 * When a record that was not sent comes back: an exponential delay with jitter that grows with
 * its receive count, instead of the queue's fixed visibility timeout. The receive limit is chosen
 * with it, so that a record survives at least an hour of continuous throttling before it can
 * reach the dead-letter queue (docs/delivery.md writes the arithmetic out).
 */
export const RETRY_POLICY = {
  /** The delay after the first receive, in seconds. */
  baseSeconds: 30,
  /**
   * No delay is longer (before jitter), so delivery resumes within about a minute of a provider
   * coming back. The fleet pause (fleet-schedule.ts) keeps the waiting records from knocking every
   * minute meanwhile (docs/delivery.md, "After an outage").
   */
  capSeconds: 60,
  /** Each delay is multiplied by a random factor in this range, so a burst does not return as one. */
  jitter: [0.75, 1.25] as const,
  /** Receives before the dead-letter queue (the queue's maxReceiveCount): 74 minutes at least. */
  receiveLimit: 100,
} as const;

/** The delay before the receive after receive number `receiveCount` (1 for the first), jitter included. */
export function retryDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const { baseSeconds, capSeconds, jitter } = RETRY_POLICY;
  const exponent = Math.max(0, Math.min(receiveCount, 30) - 1);
  const delay = Math.min(capSeconds, baseSeconds * 2 ** exponent);
  return Math.round(delay * (jitter[0] + (jitter[1] - jitter[0]) * random()));
}

/**
 * A daily quota (Google's 550 5.4.5, SES's daily message quota) frees up over hours, on a rolling
 * 24-hour window: a record it refused comes back after half an hour at least, so the records of a
 * burst trickle back as the quota frees. However many receives the record spent before (throttles,
 * an outage), its remaining receives are spread over at least the quota's window, so a record a
 * spent quota keeps refusing is never dead-lettered before the quota can have reset: each delay is
 * at least the window divided by the receives left, and at most SQS's longest visibility (12 hours).
 */
export const QUOTA_RETRY = {
  /** The shortest delay, in seconds. */
  minSeconds: 1800,
  /** The quota's window: it can have freed entirely after this long. */
  windowSeconds: 86_400,
  /** SQS's longest visibility timeout. */
  maxSeconds: 43_200,
  /** Never shorter than the base: the factor only spreads a burst later. */
  jitter: [1, 1.25] as const,
} as const;

/** The delay after a quota refusal at receive number `receiveCount`, jitter included. */
export function quotaDelaySeconds(
  receiveCount: number,
  random: () => number = Math.random,
  receiveLimit: number = RETRY_POLICY.receiveLimit,
): number {
  const { minSeconds, windowSeconds, maxSeconds, jitter } = QUOTA_RETRY;
  const receivesLeft = Math.max(1, receiveLimit - receiveCount);
  const base = Math.max(minSeconds, Math.ceil(windowSeconds / receivesLeft));
  return Math.min(maxSeconds, Math.round(base * (jitter[0] + (jitter[1] - jitter[0]) * random())));
}

/**
 * The shortest time between a first quota refusal at receive `fromReceive` and the record's last
 * receive, were every later receive refused for the quota too: at least the quota's window while
 * two or more receives are left.
 */
export function minimumQuotaSurvivalSeconds(
  fromReceive: number,
  receiveLimit: number = RETRY_POLICY.receiveLimit,
): number {
  let total = 0;
  for (let n = fromReceive; n < receiveLimit; n++) total += quotaDelaySeconds(n, () => 0, receiveLimit);
  return total;
}

/**
 * The shortest time a record that is throttled on every receive spends in the queue before its
 * last receive: every delay at its lowest jitter. With the defaults, 4,433 s (74 minutes).
 */
export function minimumSurvivalSeconds(receiveLimit: number = RETRY_POLICY.receiveLimit): number {
  let total = 0;
  for (let n = 1; n < receiveLimit; n++) total += retryDelaySeconds(n, () => 0);
  return total;
}

/**
 * Before a message refused for the rate is sent again in its batch (`throttleRetries`): half a
 * second, doubling, at most 8 s, each ± half at random. The learned pace slows once a throttle
 * episode (learned-rate.ts, 2 s), so the retries spread over several episodes instead of meeting
 * one storm of refusals eight times and leaving the message to a half-minute back-off (load test i).
 * deliver.ts gives up the retries when the wait would outlast the invocation.
 */
export const THROTTLE_RETRY_WAIT = { firstMs: 500, maxMs: 8_000 } as const;

export function throttleRetryWaitMs(attempt: number, random: () => number = Math.random): number {
  const { firstMs, maxMs } = THROTTLE_RETRY_WAIT;
  return Math.round(Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 10)) * (0.5 + random()));
}
