/** A container's pace, on a virtual clock: a token bucket that halves on a throttle and recovers. */
import { describe, expect, it } from "vitest";

import { createSendRate, shareBurst } from "../../../lib/notifications/send-rate.ts";
import { virtualClock } from "../../helpers/virtual-clock.ts";

describe("a container's send rate", () => {
  it("lets sends start no faster than its share, however many ask at once", async () => {
    const clock = virtualClock();
    const rate = createSendRate({ perSecond: 4, ...clock });
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 9 }, async () => {
        await rate.take();
        started.push(clock.t);
      }),
    );
    // The first at once (one token saved up), then one every 250 ms.
    expect(started).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  });

  it("halves on a throttle, holds, and comes back to its share with sustained success", async () => {
    const clock = virtualClock();
    const rate = createSendRate({ perSecond: 8, holdMs: 1000, successesPerStep: 3, ...clock });
    rate.throttled();
    expect(rate.current).toBe(4);
    rate.throttled();
    expect(rate.current).toBe(2);
    for (let i = 0; i < 5; i++) rate.succeeded();
    expect(rate.current).toBe(2); // still holding
    await clock.sleep(1000);
    for (let i = 0; i < 3; i++) rate.succeeded();
    expect(rate.current).toBe(4);
    for (let i = 0; i < 30; i++) rate.succeeded();
    expect(rate.current).toBe(8); // never above the share
  });

  it("keeps its rate when the provider refused the session, not a message (421 at the greeting)", () => {
    const rate = createSendRate({ perSecond: 8, ...virtualClock() });
    rate.throttled("connection");
    expect(rate.current).toBe(8);
    rate.throttled("rate");
    expect(rate.current).toBe(4);
  });

  it("never halves below its floor", () => {
    const rate = createSendRate({ perSecond: 16, floor: 1 / 4, ...virtualClock() });
    for (let i = 0; i < 10; i++) rate.throttled();
    expect(rate.current).toBe(4);
  });

  it("spaces sends at the reduced rate after a throttle", async () => {
    const clock = virtualClock();
    const rate = createSendRate({ perSecond: 10, ...clock });
    await rate.take();
    rate.throttled();
    const before = clock.t;
    await rate.take();
    expect(clock.t - before).toBe(200); // 5 a second now
  });
});

describe("a container's burst", () => {
  it("is two once the share is two a second or more, else one: the containers' tokens fit the provider's second", () => {
    expect(shareBurst(10)).toBe(2);
    expect(shareBurst(2)).toBe(2);
    expect(shareBurst(1.5)).toBe(1);
    expect(shareBurst(0.5)).toBe(1); // SES's sandbox: one at a time
  });
});
