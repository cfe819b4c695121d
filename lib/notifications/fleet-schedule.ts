/**
 * The fleet's send schedule: one "next free slot" shared by every send-notification container,
 * so their sends start one interval apart whatever their number. A container's own pace
 * (send-rate.ts) keeps it at its share of the provider's rate, but shares alone cannot keep two
 * containers apart: each may send at the same instant, and a provider that allows one message a
 * second (SES's sandbox) refuses the second. With the schedule, each send first takes the next
 * slot (one conditional write to the store), then waits for it.
 *
 * A throttle pauses the whole fleet: the next free slot moves `pauseMs` ahead, and a container
 * that finds the schedule further ahead than it may wait sends nothing, and opens no connection
 * (it looks before opening one): its records back off without knocking at a provider that has
 * just said "not now" (docs/delivery.md, "After an outage").
 *
 * The schedule adds phase, not the limit: the container's own share holds the fleet under the
 * rate without it. So the store may never stop a send (issue 19). The wait happens on a session
 * that is ready (the mailer paces after opening it, so the MAIL FROM follows the slot closely),
 * and a session idle for SMTPServerTimeout is dropped: a store call has a short deadline, the
 * longest wait for a slot fits well inside the default SMTPServerTimeout, and after a failed call
 * the container paces itself without the store for a while instead of paying the deadline on every
 * send. A next free slot later than any container can have written (a clock far ahead, a bad
 * write) is corrupt: ignored, and overwritten by the next reservation, so it cannot pause the fleet
 * for an hour, or until 2036.
 */
import { NotStartedError } from "../smtp/index.ts";
import { withTimeout } from "../timeouts.ts";
import type { SendRate } from "./send-rate.ts";

/**
 * What a reservation got: a slot to wait for (and the corrupt next slot it overwrote, if it did),
 * or nothing because the fleet is paused.
 */
export type Reservation = { slotMs: number; overwroteMs?: number } | { pausedUntilMs: number };

/** Where the schedule is kept (DynamoDB: lib/aws-dynamodb). Times are milliseconds since the epoch. */
export interface FleetScheduleStore {
  /**
   * Takes the next free slot when it starts no later than `latestMs`: the slot starts at the
   * later of now and the next free slot, which moves `intervalMs` past it. When the next free
   * slot is later than `latestMs`, takes nothing and says when it is. A next free slot later than
   * `corruptAfterMs` is corrupt: it is overwritten, on condition that it is still the value read,
   * and the reservation takes the present, as when the schedule is behind.
   */
  reserve(request: {
    nowMs: number;
    intervalMs: number;
    latestMs: number;
    corruptAfterMs?: number;
  }): Promise<Reservation>;
  /** The next free slot, without taking it; undefined before the first. */
  nextSlot(): Promise<number | undefined>;
  /** Moves the next free slot to `untilMs`, unless it is later already (and no later than `corruptAfterMs`). */
  pauseUntil(untilMs: number, options?: { corruptAfterMs?: number }): Promise<void>;
}

/**
 * Slots are this much further apart than the rate, so the fleet's long-run rate stays under the
 * provider's even as sends start a little after their slots. 1% costs 1% of the rate.
 */
export const FLEET_SPACING_MARGIN = 0.01;

/**
 * What reaches the provider is the MAIL FROM a few milliseconds after its slot (later on a
 * connection still opening), so two sends may arrive this much closer than their slots. A
 * provider's bucket holds a second's worth of messages (SES's does): from two messages up it
 * absorbs that, but one of a single message (a rate under 2/s: SES's sandbox) refuses two that
 * arrive 990 ms apart, so there each slot is this much longer (5% at 1/s).
 */
export const ARRIVAL_JITTER_MS = 50;

/** The time between two of the fleet's slots at `ratePerSecond`. */
export function fleetSlotIntervalMs(ratePerSecond: number): number {
  const jitter = ratePerSecond < 2 ? ARRIVAL_JITTER_MS : 0;
  return (1000 / ratePerSecond + jitter) * (1 + FLEET_SPACING_MARGIN);
}

/**
 * The longest a send waits for its slot; a schedule further ahead means the fleet is paused. The
 * wait happens on a session that is ready, and nodemailer drops a session idle for
 * SMTPServerTimeout (10 s by default): 5 s of waiting (the store's call included) leave 5 s for
 * the container's own pace and the send's start. It is still more than the schedule runs ahead of
 * now when every container is busy (containers × pool × interval: 4.2 s for the microsoft-365
 * preset, 2.1 s for ses-sandbox), so a busy fleet is not mistaken for a paused one.
 */
export const FLEET_MAX_WAIT_MS = 5_000;

/** How far a throttle pauses the fleet: less than a record's shortest back-off (23 s). */
export const FLEET_PAUSE_MS = 20_000;

/**
 * The longest one store operation may take (a reservation, a read, a pause). DynamoDB in the
 * function's region answers in single-digit milliseconds, a cold connection (TLS) in tens: a
 * second is a store that is not answering, and is what a send waits, at most, on a ready session.
 */
export const STORE_CALL_TIMEOUT_MS = 1_000;

/**
 * After a failed store call, how long the container paces itself without the store (its own share,
 * which holds the fleet under the rate) before trying it again: so a store that is down or slow
 * costs one deadline every 30 s, not one every send, and the warning comes at most twice a minute
 * (the handler logs it once a minute at most).
 */
export const STORE_COOL_OFF_MS = 30_000;

/**
 * How far apart the containers' clocks may be. Lambda's clocks are kept by the Amazon Time Sync
 * Service (within a millisecond or so, and SigV4 refuses a clock 5 minutes off): 5 s is generous,
 * and costs nothing but a corrupt slot within it pausing the fleet a few seconds more.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5_000;

export interface FleetPaceOptions {
  /** The container's own pace, taken first: its share of the rate, adaptive. */
  local: SendRate;
  store: FleetScheduleStore;
  /** The provider's rate for the whole fleet, messages a second. */
  fleetRatePerSecond: number;
  /** The longest a send waits for its slot; a schedule further ahead means the fleet is paused. Default FLEET_MAX_WAIT_MS. */
  maxWaitMs?: number;
  /** How far a throttle pauses the fleet. Default FLEET_PAUSE_MS. */
  pauseMs?: number;
  /** The longest a store operation may take; longer counts as a failure. Default STORE_CALL_TIMEOUT_MS. */
  storeTimeoutMs?: number;
  /** After a failed store call, how long the store is left alone. Default STORE_COOL_OFF_MS. */
  storeCoolOffMs?: number;
  /** A store call failed: the send goes ahead on the container's own pace. Default: ignored. */
  onStoreError?: (error: unknown) => void;
  /** A corrupt next free slot (this far ahead) was overwritten. Default: ignored. */
  onCorruptSlot?: (nextSlotMs: number) => void;
  /** Wall clock (shared by every container), and a timer; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The container's pace with the fleet's schedule on top. */
export function createFleetPace(options: FleetPaceOptions): SendRate {
  const { local, store } = options;
  const intervalMs = fleetSlotIntervalMs(options.fleetRatePerSecond);
  const maxWaitMs = options.maxWaitMs ?? FLEET_MAX_WAIT_MS;
  const pauseMs = options.pauseMs ?? FLEET_PAUSE_MS;
  const storeTimeoutMs = options.storeTimeoutMs ?? STORE_CALL_TIMEOUT_MS;
  const coolOffMs = options.storeCoolOffMs ?? STORE_COOL_OFF_MS;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const storeFailed = options.onStoreError ?? (() => {});
  /** Known locally, so the sends after the first of a paused batch do not ask the store again. */
  let pausedUntil = 0;
  /** After a failed store call, the store is left alone until then. */
  let storeUnusedUntil = Number.NEGATIVE_INFINITY;
  /**
   * The latest next free slot a container can have written at `t`: a pause from now, or a
   * reservation one interval past the longest wait, with the clocks' skew. Later is corrupt.
   */
  const corruptAfter = (t: number) => t + pauseMs + maxWaitMs + intervalMs + CLOCK_SKEW_ALLOWANCE_MS;

  /**
   * One store operation within its deadline, or undefined when it failed (it is said, and the
   * cool-off starts). During a cool-off it is not made, unless `always`.
   */
  const ask = async <T>(call: () => Promise<T>, always = false): Promise<{ value: T } | undefined> => {
    if (!always && now() < storeUnusedUntil) return undefined;
    try {
      const value = await withTimeout(
        Promise.resolve().then(call),
        storeTimeoutMs,
        "a call to the fleet's send schedule",
      );
      return { value };
    } catch (error) {
      storeUnusedUntil = now() + coolOffMs;
      storeFailed(error);
      return undefined;
    }
  };

  const paused = (until: number) =>
    new NotStartedError(`the fleet is paused after a throttle, until ${new Date(until).toISOString()}`, {
      afterThrottle: true,
    });

  return {
    get current() {
      return Math.min(local.current, options.fleetRatePerSecond);
    },
    async take() {
      await local.take();
      const t = now();
      if (pausedUntil > t) throw paused(pausedUntil);
      const latest = t + maxWaitMs;
      const got = await ask(() =>
        store.reserve({ nowMs: t, intervalMs, latestMs: latest, corruptAfterMs: corruptAfter(t) }),
      );
      if (!got) return; // the container's own pace holds the fleet under the rate
      const reservation = got.value;
      if ("pausedUntilMs" in reservation) {
        // A store that kept a corrupt slot: not a pause, and not worth waiting for.
        if (reservation.pausedUntilMs > corruptAfter(t)) return;
        pausedUntil = reservation.pausedUntilMs;
        throw paused(pausedUntil);
      }
      if (reservation.overwroteMs !== undefined) options.onCorruptSlot?.(reservation.overwroteMs);
      // Never past the longest wait, whatever the store said: the session would not outlive it.
      const wait = Math.min(reservation.slotMs, latest) - now();
      if (wait > 0) await sleep(wait);
    },
    async beforeOpen() {
      // A connection to a provider that has just refused the fleet would be one more refusal.
      const t = now();
      if (pausedUntil > t) throw paused(pausedUntil);
      const next = (await ask(() => store.nextSlot()))?.value;
      // A corrupt slot is ignored here; the reservation after the session opens overwrites it.
      if (next !== undefined && next > t + maxWaitMs && next <= corruptAfter(t)) {
        pausedUntil = next;
        throw paused(pausedUntil);
      }
    },
    async throttled(reason) {
      await local.throttled(reason);
      const t = now();
      pausedUntil = t + pauseMs;
      // Tried even while the store is left alone: a throttle is rare, and the fleet's only news of it.
      await ask(() => store.pauseUntil(pausedUntil, { corruptAfterMs: corruptAfter(t) }), true);
    },
    succeeded() {
      local.succeeded();
    },
  };
}
