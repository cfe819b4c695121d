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
 * just said "not now" (docs/delivery.md, "After an outage"). When the store cannot be reached, the container's own share still holds the fleet
 * under the rate: the schedule adds phase, not the limit.
 */
import { NotStartedError } from "../smtp/index.ts";
import type { SendRate } from "./send-rate.ts";

/** What a reservation got: a slot to wait for, or nothing because the fleet is paused. */
export type Reservation = { slotMs: number } | { pausedUntilMs: number };

/** Where the schedule is kept (DynamoDB: lib/aws-dynamodb). Times are milliseconds since the epoch. */
export interface FleetScheduleStore {
  /**
   * Takes the next free slot when it starts no later than `latestMs`: the slot starts at the
   * later of now and the next free slot, which moves `intervalMs` past it. When the next free
   * slot is later than `latestMs`, takes nothing and says when it is.
   */
  reserve(request: { nowMs: number; intervalMs: number; latestMs: number }): Promise<Reservation>;
  /** The next free slot, without taking it; undefined before the first. */
  nextSlot(): Promise<number | undefined>;
  /** Moves the next free slot to `untilMs`, unless it is later already. */
  pauseUntil(untilMs: number): Promise<void>;
}

/**
 * Slots are this much further apart than the rate: what reaches the provider is the MAIL FROM a
 * few milliseconds after the slot, later on a connection still opening, and a provider's bucket of
 * one message a second refuses two that arrive 990 ms apart. 5% costs 5% of the rate.
 */
export const FLEET_SPACING_MARGIN = 0.05;

export interface FleetPaceOptions {
  /** The container's own pace, taken first: its share of the rate, adaptive. */
  local: SendRate;
  store: FleetScheduleStore;
  /** The provider's rate for the whole fleet, messages a second. */
  fleetRatePerSecond: number;
  /** The longest a send waits for its slot; a schedule further ahead means the fleet is paused. Default 10 s. */
  maxWaitMs?: number;
  /** How far a throttle pauses the fleet. Default 20 s: less than a record's shortest back-off (23 s). */
  pauseMs?: number;
  /** A store call failed: the send goes ahead on the container's own pace. Default: ignored. */
  onStoreError?: (error: unknown) => void;
  /** Wall clock (shared by every container), and a timer; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The container's pace with the fleet's schedule on top. */
export function createFleetPace(options: FleetPaceOptions): SendRate {
  const { local, store } = options;
  const intervalMs = (1000 / options.fleetRatePerSecond) * (1 + FLEET_SPACING_MARGIN);
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const pauseMs = options.pauseMs ?? 20_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const storeFailed = options.onStoreError ?? (() => {});
  /** Known locally, so the sends after the first of a paused batch do not ask the store again. */
  let pausedUntil = 0;

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
      let reservation: Reservation;
      try {
        reservation = await store.reserve({ nowMs: t, intervalMs, latestMs: t + maxWaitMs });
      } catch (error) {
        storeFailed(error);
        return;
      }
      if ("pausedUntilMs" in reservation) {
        pausedUntil = reservation.pausedUntilMs;
        throw paused(pausedUntil);
      }
      const wait = reservation.slotMs - now();
      if (wait > 0) await sleep(wait);
    },
    async beforeOpen() {
      // A connection to a provider that has just refused the fleet would be one more refusal.
      const t = now();
      if (pausedUntil > t) throw paused(pausedUntil);
      const next = await store.nextSlot().catch((error: unknown) => {
        storeFailed(error);
        return undefined;
      });
      if (next !== undefined && next > t + maxWaitMs) {
        pausedUntil = next;
        throw paused(pausedUntil);
      }
    },
    async throttled(reason) {
      await local.throttled(reason);
      pausedUntil = now() + pauseMs;
      await store.pauseUntil(pausedUntil).catch(storeFailed);
    },
    succeeded() {
      local.succeeded();
    },
  };
}
