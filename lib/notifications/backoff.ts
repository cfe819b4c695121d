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
 * 24-hour window: a record it refused comes back after half an hour (jittered), so the records of
 * a burst trickle back as the quota frees, and 100 receives outlast two days.
 */
export const QUOTA_RETRY_SECONDS = 1800;

export function quotaDelaySeconds(random: () => number = Math.random): number {
  const { jitter } = RETRY_POLICY;
  return Math.round(QUOTA_RETRY_SECONDS * (jitter[0] + (jitter[1] - jitter[0]) * random()));
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
