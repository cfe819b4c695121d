/**
 * The back-offs' arithmetic (docs/delivery.md writes it out): a record a spent daily quota keeps
 * refusing is never dead-lettered before the quota can have reset, however many of its receives
 * went before (issue 19, finding 11).
 */
import { describe, expect, it } from "vitest";
import {
  minimumQuotaSurvivalSeconds,
  QUOTA_RETRY,
  quotaDelaySeconds,
  RETRY_POLICY,
  THROTTLE_RETRY_WAIT,
  throttleRetryWaitMs,
} from "../../../lib/notifications/index.ts";

describe("a spent daily quota's back-off", () => {
  it("is half an hour at first, the burst spread later, never sooner", () => {
    expect(quotaDelaySeconds(1, () => 0)).toBe(QUOTA_RETRY.minSeconds);
    expect(quotaDelaySeconds(1, () => 0.999)).toBeLessThanOrEqual(QUOTA_RETRY.minSeconds * 1.25);
  });

  it.each([1, 40, 60, 90, 97, 98])(
    "outlasts the quota's window from a first refusal at receive %i, every later receive refused too",
    (fromReceive) => {
      expect(minimumQuotaSurvivalSeconds(fromReceive)).toBeGreaterThanOrEqual(QUOTA_RETRY.windowSeconds);
    },
  );

  it("never asks SQS for more than its longest visibility, 12 hours", () => {
    for (let n = 1; n <= RETRY_POLICY.receiveLimit + 5; n++) {
      expect(quotaDelaySeconds(n, () => 0.999)).toBeLessThanOrEqual(43_200);
    }
  });
});

describe("the wait before a message refused for the rate is sent again in its batch", () => {
  it("starts at half a second and doubles, so eight retries span several throttle episodes", () => {
    const mid = () => 0.5;
    const waits = Array.from({ length: 8 }, (_, attempt) => throttleRetryWaitMs(attempt, mid));
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    // All eight stay well inside a 130 s invocation even at their longest.
    expect(waits.reduce((a, b) => a + b, 0) * 1.5).toBeLessThan(60_000);
  });

  it("is spread ± half at random, and never more than its cap's", () => {
    expect(throttleRetryWaitMs(0, () => 0)).toBe(THROTTLE_RETRY_WAIT.firstMs / 2);
    expect(throttleRetryWaitMs(50, () => 0.999)).toBeLessThanOrEqual(THROTTLE_RETRY_WAIT.maxMs * 1.5);
  });
});
