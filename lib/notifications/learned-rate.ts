/**
 * A pace learned from the provider, for a deployment that configured no rate (provider
 * `unlimited`, no `maxSendRate`): the container sends as fast as its pool allows until the
 * provider first refuses a message for the rate (454, 450 4.7.1); then it takes as its pace a
 * little less than what it was getting accepted just before (`LEARNING.keep` of the accepted rate
 * over the last `LEARNING.windowMs`, from its first acceptance in that window, a second at least),
 * and adapts it from there: each later throttle lowers it by a fifth (once an episode), and each
 * `LEARNING.probeAfterMs` without one raises it by a tenth, so a first measure that was low (a few
 * messages before a burst limit) does not stay (a quarter overshot the provider by as much each
 * time: 230 refusals in load test i, 60 with a tenth); a first measure of very few messages
 * doubles every second until the next throttle instead (TCP's slow start). A throttle slows the
 * pace without stopping the batch (the mailer's paceAfterRateThrottle): its other sends go on.
 * Without it, every throttle stopped the batch and sent its records back for half a minute, again
 * and again: 600 notifications against 20 a second took 3.87 × the ideal time (issue 19).
 *
 * Fleet-wide: the learned share is written to the fleet's send schedule (when the stack made
 * one), and every container reads it there (at most every `LEARNING.readEveryMs`), so a
 * container that starts later, or was never throttled, starts at the fleet's pace instead of
 * learning it again with a refusal of its own. A lower share written there is taken at once; a
 * higher one too, so the fleet converges on one share; a container that takes it waits its probe
 * from the fleet's last adjustment, not its own (sixty new containers each raised it at their
 * first success). The first learning is logged (`onLearned`) with the maxSendRate it suggests.
 */
import { createSendRate, type SendRate, type ThrottleReason } from "./send-rate.ts";

/** Where the fleet's learned share is kept (lib/aws-dynamodb: an item of the send schedule's table). */
export interface LearnedRateStore {
  /** The learned share, messages a second a container, and when it was learned; undefined before the first. */
  read(): Promise<{ perSecond: number; atMs: number } | undefined>;
  write(learned: { perSecond: number; atMs: number }): Promise<void>;
}

/** The log line that says what was learned (`mm-email status` reads the newest one). */
export const LEARNED_RATE_MESSAGE =
  "Learned a send rate from the provider's throttle: set maxSendRate in context to keep it (docs/delivery.md)";

export const LEARNING = {
  /** The accepted rate is measured over this window before a throttle. */
  windowMs: 5000,
  /** The learned share is this much of what was accepted: the throttle said it was too much. */
  keep: 0.8,
  /** No share is learned below this (messages a second): one every ten seconds. */
  minPerSecond: 0.1,
  /** The fleet's learned share is read at most this often. */
  readEveryMs: 10_000,
  /** Throttles this close to the last adjustment are the same episode: one adjustment. */
  episodeMs: 2000,
  /** A throttle after learning lowers the share by this factor. */
  decrease: 0.8,
  /** After this long without a throttle, the share rises a step. */
  probeAfterMs: 5000,
  /** The step up. */
  increase: 1.1,
  /** A first measure of fewer messages than this starts a slow start. */
  trustedSample: 10,
  /** In a slow start, the share doubles this often. */
  slowStartStepMs: 1000,
} as const;

export interface LearningRateOptions {
  /** The fleet's learned share. Without it, each container learns alone. */
  store?: LearnedRateStore;
  /** A share was learned from a throttle here (`from: "throttle"`), or taken from the fleet's. */
  onLearned?: (learned: { perSecond: number; from: "throttle" | "fleet" }) => void;
  /** A store call failed: the container goes on with what it knows. */
  onStoreError?: (error: unknown) => void;
  /** Milliseconds clock and timer; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export function createLearningRate(options: LearningRateOptions = {}): SendRate {
  const now = options.now ?? Date.now;
  const storeFailed = options.onStoreError ?? (() => {});
  /** Undefined until a share is learned: sends are not paced. */
  let pace: SendRate | undefined;
  let share: number | undefined;
  let learnedAt = Number.NEGATIVE_INFINITY;
  let readAt = Number.NEGATIVE_INFINITY;
  /** Doubling every second after a first measure of too few messages, until the next throttle. */
  let slowStart = false;
  /** When the share was last learned, lowered or raised. */
  let adjustedAt = Number.NEGATIVE_INFINITY;
  /** When recent messages were accepted, for the measure at a throttle (bounded by the window). */
  let accepted: number[] = [];

  const adopt = (perSecond: number, atMs: number) => {
    share = perSecond;
    learnedAt = atMs;
    pace = createSendRate({
      perSecond,
      ...(options.now ? { now: options.now } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
  };

  /** Takes `perSecond` as the share from `t`, and tells the fleet. */
  const learn = async (perSecond: number, t: number) => {
    adopt(perSecond, t);
    adjustedAt = t;
    await options.store?.write({ perSecond, atMs: t }).catch(storeFailed);
  };

  const readFleet = async () => {
    const t = now();
    if (!options.store || t - readAt < LEARNING.readEveryMs) return;
    readAt = t;
    try {
      const fleet = await options.store.read();
      if (fleet && fleet.atMs > learnedAt && fleet.perSecond !== share) {
        adopt(fleet.perSecond, fleet.atMs);
        // The fleet's share was adjusted then: a probe waits its time from there, so sixty
        // containers taking it do not each raise it at their first success.
        adjustedAt = Math.max(adjustedAt, fleet.atMs);
        options.onLearned?.({ perSecond: fleet.perSecond, from: "fleet" });
      }
    } catch (error) {
      storeFailed(error);
    }
  };

  return {
    get current() {
      return pace?.current ?? Number.POSITIVE_INFINITY;
    },
    async take() {
      await readFleet();
      await pace?.take();
    },
    async throttled(reason: ThrottleReason = "rate") {
      // A session refused (an outage, a connection limit) says nothing about the rate.
      if (reason === "connection") return;
      const t = now();
      if (share !== undefined) {
        // One adjustment an episode: the batches running at once meet the same throttle together.
        if (t - adjustedAt < LEARNING.episodeMs) return;
        slowStart = false;
        await learn(Math.max(LEARNING.minPerSecond, round(share * LEARNING.decrease)), t);
        return;
      }
      accepted = accepted.filter((at) => t - at <= LEARNING.windowMs);
      // Over the time it was sending, not the whole window: a container that has just started
      // would otherwise learn a fraction of what it got accepted.
      const since = accepted[0] ?? t;
      const measured = accepted.length / Math.max(1, (t - since) / 1000);
      const perSecond = Math.max(LEARNING.minPerSecond, round(measured * LEARNING.keep));
      // A few messages say little (a burst limit met at once): start low and double every
      // second until the next throttle, as TCP's slow start does.
      slowStart = accepted.length < LEARNING.trustedSample;
      await learn(perSecond, t);
      options.onLearned?.({ perSecond, from: "throttle" });
    },
    succeeded() {
      const t = now();
      if (share === undefined) {
        accepted.push(t);
        if (accepted.length > 10_000) accepted = accepted.filter((at) => t - at <= LEARNING.windowMs);
        return;
      }
      pace?.succeeded();
      // A first measure may be low (a few messages before a burst limit): clean time raises the
      // share a step, and the next throttle says where the limit is.
      if (slowStart && t - adjustedAt >= LEARNING.slowStartStepMs) void learn(round(share * 2), t);
      else if (t - adjustedAt >= LEARNING.probeAfterMs) void learn(round(share * LEARNING.increase), t);
    },
  };
}
