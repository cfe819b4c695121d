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
