/**
 * The fleet's pace on a virtual clock, over a schedule kept in memory (the DynamoDB store has
 * its own test against moto_server: test/lib/aws-dynamodb).
 */
import { describe, expect, it } from "vitest";
import {
  createFleetPace,
  type FleetScheduleStore,
  fleetSlotIntervalMs,
} from "../../../lib/notifications/fleet-schedule.ts";
import { createSendRate } from "../../../lib/notifications/send-rate.ts";
import { NotStartedError } from "../../../lib/smtp/index.ts";
import { virtualClock } from "../../helpers/virtual-clock.ts";

/** A clock whose sleepers wake in time order, for several containers waiting at once. */
function sharedClock() {
  let t = 1_000_000;
  const sleepers: Array<{ at: number; wake: () => void }> = [];
  const settle = () => new Promise<void>((r) => setImmediate(r));
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: t + ms, wake })),
    /** Runs the tasks to their end, waking the earliest sleeper whenever all of them wait. */
    async run(tasks: Array<Promise<void>>) {
      let done = false;
      const all = Promise.all(tasks).then(() => {
        done = true;
      });
      for (let steps = 0; !done && steps < 1000; steps++) {
        await settle();
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers.shift();
        if (!next) continue;
        t = Math.max(t, next.at);
        next.wake();
      }
      await all;
    },
  };
}

/** The store's rules in memory, counting its calls. */
function memoryStore() {
  let next = Number.NEGATIVE_INFINITY;
  const calls = { reserve: 0, nextSlot: 0, pauseUntil: [] as number[] };
  const store: FleetScheduleStore = {
    async reserve({ nowMs, intervalMs, latestMs, corruptAfterMs }) {
      calls.reserve++;
      // A slot past what any container can have written is overwritten, and the present taken.
      if (corruptAfterMs !== undefined && next > corruptAfterMs) next = Number.NEGATIVE_INFINITY;
      if (next > latestMs) return { pausedUntilMs: next };
      const slotMs = Math.max(nowMs, next);
      next = slotMs + intervalMs;
      return { slotMs };
    },
    async nextSlot() {
      calls.nextSlot++;
      return Number.isFinite(next) ? next : undefined;
    },
    async pauseUntil(untilMs, { corruptAfterMs } = {}) {
      calls.pauseUntil.push(untilMs);
      next = corruptAfterMs !== undefined && next > corruptAfterMs ? untilMs : Math.max(next, untilMs);
    },
  };
  return {
    store,
    calls,
    /** Writes the next free slot as a broken container (or a hand) might. */
    set: (ms: number) => {
      next = ms;
    },
    get: () => next,
  };
}

describe("the fleet's slot interval", () => {
  it("costs a rate of two or more a second 1%, and a one-message bucket the arrival's jitter too", () => {
    // 600 at 20/s: 30.3 s of slots, not the 31.5 s a flat 5% cost (load test j).
    expect(fleetSlotIntervalMs(20)).toBeCloseTo(50.5, 6);
    expect(fleetSlotIntervalMs(2)).toBeCloseTo(505, 6);
    // SES's sandbox, 1/s: two arrivals 990 ms apart are refused, so 1050 ms and the 1%.
    expect(fleetSlotIntervalMs(1)).toBeCloseTo(1060.5, 6);
    expect(fleetSlotIntervalMs(0.5)).toBeCloseTo(2070.5, 6);
  });
});

describe("the fleet's pace", () => {
  it("interleaves two containers, each at its half of the rate, one slot apart with the margin", async () => {
    const clock = sharedClock();
    const { store } = memoryStore();
    const pace = () =>
      createFleetPace({
        local: createSendRate({ perSecond: 0.5, ...clock }),
        store,
        fleetRatePerSecond: 1,
        ...clock,
      });
    const [a, b] = [pace(), pace()];
    const started: Array<[string, number]> = [];
    const container = async (name: string, p: typeof a) => {
      for (let i = 0; i < 3; i++) {
        await p.take();
        started.push([name, clock.now()]);
      }
    };
    await clock.run([container("a", a), container("b", b)]);

    expect(started).toHaveLength(6);
    const times = started.map(([, t]) => t).sort((x, y) => x - y);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // At 1/s the provider's bucket holds one message: each gap covers the arrival's jitter too.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1050);
    expect(new Set(started.map(([name]) => name))).toEqual(new Set(["a", "b"]));
  });

  it("sends nothing while the fleet is paused, and asks the store once for a paused batch", async () => {
    const clock = virtualClock(1_000_000);
    const { store, calls } = memoryStore();
    await store.pauseUntil(clock.now() + 20_000);
    const pace = createFleetPace({
      local: createSendRate({ perSecond: 10, ...clock }),
      store,
      fleetRatePerSecond: 10,
      ...clock,
    });

    const first = await pace.take().catch((e: unknown) => e);
    const second = await pace.take().catch((e: unknown) => e);

    expect(first).toBeInstanceOf(NotStartedError);
    expect(first).toMatchObject({ afterThrottle: true, message: expect.stringMatching(/fleet is paused/) });
    expect(second).toBeInstanceOf(NotStartedError);
    expect(calls.reserve).toBe(1);
    await clock.sleep(20_000);
    await expect(pace.take()).resolves.toBeUndefined();
  });

  it("opens no connection while the fleet is paused: it looks before opening", async () => {
    const clock = virtualClock(1_000_000);
    const { store, calls } = memoryStore();
    const pace = createFleetPace({
      local: createSendRate({ perSecond: 1, ...clock }),
      store,
      fleetRatePerSecond: 1,
      ...clock,
    });
    await expect(pace.beforeOpen?.()).resolves.toBeUndefined(); // nothing scheduled yet
    await store.pauseUntil(clock.now() + 20_000);

    await expect(pace.beforeOpen?.()).rejects.toMatchObject({ afterThrottle: true });
    await expect(pace.beforeOpen?.()).rejects.toBeInstanceOf(NotStartedError);
    expect(calls.nextSlot).toBe(2); // the second knew already
    await clock.sleep(20_000);
    await expect(pace.beforeOpen?.()).resolves.toBeUndefined();
  });

  it("pauses the whole fleet on a throttle, and halves its own rate", async () => {
    const clock = virtualClock(1_000_000);
    const { store, calls } = memoryStore();
    const local = createSendRate({ perSecond: 4, ...clock });
    const pace = createFleetPace({ local, store, fleetRatePerSecond: 8, pauseMs: 15_000, ...clock });

    await pace.throttled();

    expect(calls.pauseUntil).toEqual([clock.now() + 15_000]);
    expect(local.current).toBe(2);
    const other = createFleetPace({
      local: createSendRate({ perSecond: 4, ...clock }),
      store,
      fleetRatePerSecond: 8,
      ...clock,
    });
    await expect(other.take()).rejects.toBeInstanceOf(NotStartedError);
  });

  it("pauses the fleet on a refused session too, but leaves the container's rate", async () => {
    const clock = virtualClock(1_000_000);
    const { store, calls } = memoryStore();
    const local = createSendRate({ perSecond: 4, ...clock });
    const pace = createFleetPace({ local, store, fleetRatePerSecond: 8, ...clock });
    await pace.throttled("connection");
    expect(calls.pauseUntil).toEqual([clock.now() + 20_000]);
    expect(local.current).toBe(4);
  });

  it("goes on at the container's own pace when the store fails, says so, and still tells it of a throttle", async () => {
    const clock = virtualClock(1_000_000);
    const errors: unknown[] = [];
    const broken: FleetScheduleStore = {
      reserve: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
      nextSlot: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
      pauseUntil: async () => {
        throw new Error("ProvisionedThroughputExceededException");
      },
    };
    const pace = createFleetPace({
      local: createSendRate({ perSecond: 2, ...clock }),
      store: broken,
      fleetRatePerSecond: 4,
      onStoreError: (e) => errors.push(e),
      ...clock,
    });
    const start = clock.now();
    await pace.take();
    await pace.take();
    expect(clock.now() - start).toBe(500); // the own share, 2 a second
    await pace.beforeOpen?.();
    await pace.throttled();
    // The first failure starts a cool-off: the second take and the look before opening leave the
    // store alone; a throttle is still told (the fleet's only news of it).
    expect(errors).toHaveLength(2);
  });

  it("gives a store call a short deadline, then paces alone without the store for a while", async () => {
    const clock = virtualClock(1_000_000);
    const errors: unknown[] = [];
    const calls = { reserve: 0, nextSlot: 0 };
    // A DynamoDB that accepts and never answers.
    const silent: FleetScheduleStore = {
      reserve: () => {
        calls.reserve++;
        return new Promise(() => {});
      },
      nextSlot: () => {
        calls.nextSlot++;
        return new Promise(() => {});
      },
      pauseUntil: () => new Promise(() => {}),
    };
    const pace = createFleetPace({
      local: createSendRate({ perSecond: 10, ...clock }),
      store: silent,
      fleetRatePerSecond: 20,
      onStoreError: (e) => errors.push(e),
      ...clock,
    });

    const started = performance.now();
    await pace.beforeOpen?.();
    await pace.take();
    // One call, cut at its deadline (1 s, real time): DynamoDB in the region answers in milliseconds.
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(calls).toEqual({ reserve: 0, nextSlot: 1 });
    expect(errors).toHaveLength(1);

    // For the cool-off (30 s) the container goes at its own share without asking the store.
    const start = clock.now();
    for (let i = 0; i < 20; i++) await pace.take();
    expect(clock.now() - start).toBe(2_000); // 20 sends at 10 a second
    await pace.beforeOpen?.();
    expect(calls).toEqual({ reserve: 0, nextSlot: 1 });

    // Then it tries the store again, once.
    await clock.sleep(30_000);
    await pace.take();
    expect(calls).toEqual({ reserve: 1, nextSlot: 1 });
    expect(errors).toHaveLength(2);
  });

  it("never waits for a slot longer than a ready session survives idle", async () => {
    // take() runs on a session that is ready (the mailer paces after opening it), and nodemailer
    // drops a session idle for SMTPServerTimeout (10 s by default): the store's deadline (1 s), the
    // wait for the slot and a margin must fit in it.
    const sessionIdleMs = 10_000;
    const clock = virtualClock(1_000_000);
    const { store, set } = memoryStore();
    const pace = createFleetPace({
      local: createSendRate({ perSecond: 1, ...clock }),
      store,
      fleetRatePerSecond: 1,
      ...clock,
    });
    for (const ahead of [3_000, 5_000, 6_000, 8_000, 9_500]) {
      set(clock.now() + ahead);
      const start = clock.now();
      const got = await pace.take().catch((e: unknown) => e);
      const waited = clock.now() - start;
      expect(waited).toBeLessThanOrEqual(sessionIdleMs - 1_000 - 2_000);
      // A slot it may not wait for is a paused fleet: the send does not start on this session.
      if (got !== undefined) expect(got).toBeInstanceOf(NotStartedError);
      await clock.sleep(ahead + 1_000);
    }
  });

  it("ignores a next slot no container can have written (10 years, an hour ahead), and still honours a pause", async () => {
    const clock = virtualClock(1_000_000);
    const { store, set, get } = memoryStore();
    const pace = () =>
      createFleetPace({
        local: createSendRate({ perSecond: 10, ...clock }),
        store,
        fleetRatePerSecond: 10,
        ...clock,
      });
    for (const ahead of [10 * 365 * 86_400_000, 3_600_000]) {
      set(clock.now() + ahead);
      const p = pace();
      await expect(p.beforeOpen?.()).resolves.toBeUndefined();
      const start = clock.now();
      await expect(p.take()).resolves.toBeUndefined();
      expect(clock.now() - start).toBe(0); // at once
      expect(get()).toBeLessThan(clock.now() + 1_000); // overwritten: the next slot is one interval on
    }
    // A throttle's pause (20 s) is the fleet's, not a corruption.
    set(clock.now() + 20_000);
    const p = pace();
    await expect(p.beforeOpen?.()).rejects.toMatchObject({ afterThrottle: true });
    await expect(pace().take()).rejects.toMatchObject({ afterThrottle: true });
    expect(get()).toBe(clock.now() + 20_000);
    // A throttle over a corrupt slot pauses the fleet for its own 20 s, not until 2036.
    set(clock.now() + 10 * 365 * 86_400_000);
    await pace().throttled();
    expect(get()).toBe(clock.now() + 20_000);
  });
});
