/** A rate learned from the provider's throttle, on a virtual clock (the fleet's store: a map). */
import { describe, expect, it } from "vitest";

import { createLearningRate, LEARNING, type LearnedRateStore } from "../../../lib/notifications/index.ts";
import { virtualClock } from "../../helpers/virtual-clock.ts";

function memoryStore(): LearnedRateStore & { held?: { perSecond: number; atMs: number } } {
  const store: LearnedRateStore & { held?: { perSecond: number; atMs: number } } = {
    read: async () => store.held,
    write: async (learned) => {
      if (!store.held || store.held.atMs < learned.atMs) store.held = learned;
    },
  };
  return store;
}

describe("a rate learned from the provider", () => {
  it("is unpaced until the first throttle, then keeps below what was accepted just before it", async () => {
    const clock = virtualClock(1_000_000);
    const learned: number[] = [];
    const rate = createLearningRate({ ...clock, onLearned: ({ perSecond }) => learned.push(perSecond) });
    expect(rate.current).toBe(Number.POSITIVE_INFINITY);
    // 50 accepted over the last 5 s (10 a second), and more before the window that no longer count.
    for (let i = 0; i < 30; i++) rate.succeeded();
    clock.advance(LEARNING.windowMs + 1);
    for (let i = 0; i < 50; i++) {
      rate.succeeded();
      clock.advance(100);
    }
    await rate.throttled("rate");
    expect(learned).toEqual([10 * LEARNING.keep]);
    expect(rate.current).toBe(10 * LEARNING.keep);
  });

  it("measures over the time it was sending: a burst of 6 in 300 ms is 6 a second, not 6 in 5 s", async () => {
    const clock = virtualClock(1_000_000);
    const rate = createLearningRate(clock);
    for (let i = 0; i < 6; i++) {
      rate.succeeded();
      clock.advance(50);
    }
    await rate.throttled("rate");
    expect(rate.current).toBeCloseTo(6 * LEARNING.keep, 5);
  });

  it("adjusts once an episode: the batches running at once meet one throttle together", async () => {
    const clock = virtualClock(1_000_000);
    const rate = createLearningRate(clock);
    for (let i = 0; i < 10; i++) {
      rate.succeeded();
      clock.advance(100);
    }
    await rate.throttled("rate");
    const learned = rate.current;
    await rate.throttled("rate");
    await rate.throttled("rate");
    expect(rate.current).toBe(learned);
    clock.advance(LEARNING.episodeMs);
    await rate.throttled("rate");
    expect(rate.current).toBeCloseTo(learned * LEARNING.decrease, 3);
  });

  it("raises its share a step after each clean stretch, until the provider says where the limit is", async () => {
    const clock = virtualClock(1_000_000);
    const rate = createLearningRate(clock);
    for (let i = 0; i < LEARNING.trustedSample; i++) {
      rate.succeeded();
      clock.advance(200);
    }
    await rate.throttled("rate");
    const first = rate.current;
    clock.advance(LEARNING.probeAfterMs);
    rate.succeeded();
    expect(rate.current).toBeCloseTo(first * LEARNING.increase, 3);
    clock.advance(LEARNING.probeAfterMs);
    rate.succeeded();
    expect(rate.current).toBeCloseTo(first * LEARNING.increase ** 2, 3);
    // Not before its time.
    clock.advance(LEARNING.probeAfterMs / 2);
    rate.succeeded();
    expect(rate.current).toBeCloseTo(first * LEARNING.increase ** 2, 3);
  });

  it("starts slow from a measure of a few messages and doubles every second until the next throttle", async () => {
    const clock = virtualClock(1_000_000);
    const rate = createLearningRate(clock);
    rate.succeeded();
    await rate.throttled("rate"); // one message before a burst limit: it says little
    const first = rate.current;
    for (const step of [2, 4, 8]) {
      clock.advance(LEARNING.slowStartStepMs);
      rate.succeeded();
      expect(rate.current).toBeCloseTo(first * step, 3);
    }
    clock.advance(LEARNING.episodeMs);
    await rate.throttled("rate"); // the limit: a fifth less, and steps of a quarter from now on
    expect(rate.current).toBeCloseTo(first * 8 * LEARNING.decrease, 3);
    clock.advance(LEARNING.slowStartStepMs);
    rate.succeeded();
    expect(rate.current).toBeCloseTo(first * 8 * LEARNING.decrease, 3);
  });

  it("learns nothing from a refused session (an outage or a connection limit)", async () => {
    const rate = createLearningRate(virtualClock(1_000_000));
    rate.succeeded();
    await rate.throttled("connection");
    expect(rate.current).toBe(Number.POSITIVE_INFINITY);
  });

  it("never learns less than its floor", async () => {
    const rate = createLearningRate(virtualClock(1_000_000));
    await rate.throttled("rate");
    expect(rate.current).toBe(LEARNING.minPerSecond);
  });

  it("shares what it learned: another container takes the fleet's rate before its first send", async () => {
    const clock = virtualClock(1_000_000);
    const store = memoryStore();
    const first = createLearningRate({ ...clock, store });
    for (let i = 0; i < 25; i++) {
      first.succeeded();
      clock.advance(200);
    }
    await first.throttled("rate");
    expect(store.held?.perSecond).toBe(5 * LEARNING.keep);

    const fromFleet: string[] = [];
    const second = createLearningRate({ ...clock, store, onLearned: ({ from }) => fromFleet.push(from) });
    await second.take();
    expect(second.current).toBe(5 * LEARNING.keep);
    expect(fromFleet).toEqual(["fleet"]);
  });

  it("raises a share taken from the fleet only once the fleet's has stood a probeAfterMs", async () => {
    const clock = virtualClock(1_000_000);
    const store = memoryStore();
    store.held = { perSecond: 4, atMs: clock.now() };
    // Sixty containers start while the fleet's share is new: none raises it at its first success
    // (each did, and 600 notifications met 633 throttles: load test i).
    const fleet = Array.from({ length: 60 }, () => createLearningRate({ ...clock, store }));
    for (const container of fleet) {
      await container.take();
      container.succeeded();
    }
    expect(store.held).toEqual({ perSecond: 4, atMs: clock.now() });
    expect(fleet.every((c) => c.current === 4)).toBe(true);

    clock.advance(LEARNING.probeAfterMs);
    fleet[0]?.succeeded();
    expect(store.held?.perSecond).toBe(4 * LEARNING.increase);
  });
});
