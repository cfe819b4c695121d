/** The timeout arithmetic (infra/sizing.ts), rule by rule, at its bounds. */
import { describe, expect, it } from "vitest";
import {
  alertCheckTimeoutSeconds,
  clamp,
  connectionTestMayOutlast,
  connectionTestTimeoutSeconds,
  pacedBatchOutlastsLambda,
  pacedBatchSeconds,
  queueVisibilitySeconds,
  sendNotificationTimeoutSeconds,
} from "../../infra/sizing.ts";

describe("clamp", () => {
  it("keeps a value within its bounds, and raises or lowers one outside", () => {
    expect(clamp(50, 30, 900)).toBe(50);
    expect(clamp(5, 30, 900)).toBe(30);
    expect(clamp(1000, 30, 900)).toBe(900);
    expect(clamp(30, 30, 900)).toBe(30);
    expect(clamp(900, 30, 900)).toBe(900);
  });
});

describe("send-notification", () => {
  it("is T × (ceil(batch / pool) + 2) + 10", () => {
    expect(sendNotificationTimeoutSeconds(10, 10, 1)).toBe(130);
    expect(sendNotificationTimeoutSeconds(30, 10, 1)).toBe(370);
    // 10 messages over 3 connections: 4 each at worst.
    expect(sendNotificationTimeoutSeconds(10, 10, 3)).toBe(70);
  });

  it("is at least 30 s and at most Lambda's 900 s", () => {
    expect(sendNotificationTimeoutSeconds(1, 1, 1)).toBe(30);
    expect(sendNotificationTimeoutSeconds(60, 100, 1)).toBe(900);
  });

  it("is 2T + ceil(batch / rate) + 10 when the container's rate paces the batch for longer", () => {
    expect(pacedBatchSeconds(10, 10)).toBe(0);
    expect(pacedBatchSeconds(10, 10, 0.25)).toBe(70);
    // Microsoft 365's share: 70 s paced, under the 130 s the sends take at worst.
    expect(sendNotificationTimeoutSeconds(10, 10, 1, 0.25)).toBe(130);
    expect(sendNotificationTimeoutSeconds(10, 10, 1)).toBe(130);
    // 0.05 a second: 200 s of starts outlast 2 × 12 + 10.
    expect(sendNotificationTimeoutSeconds(2, 10, 1, 0.05)).toBe(214);
    expect(sendNotificationTimeoutSeconds(10, 10, 1, 0.005)).toBe(900);
  });

  it("says when a paced batch cannot fit Lambda's 900 s", () => {
    expect(pacedBatchOutlastsLambda(10, 10)).toBe(false);
    expect(pacedBatchOutlastsLambda(10, 10, 0.25)).toBe(false);
    expect(pacedBatchOutlastsLambda(10, 10, 0.005)).toBe(true);
  });
});

describe("security-alert-check", () => {
  it("is 6T + 60, from 60 s to 900 s", () => {
    expect(alertCheckTimeoutSeconds(10)).toBe(120);
    expect(alertCheckTimeoutSeconds(0)).toBe(60);
    expect(alertCheckTimeoutSeconds(200)).toBe(900);
  });
});

describe("connection-test", () => {
  it("is 29 s whatever T, within API Gateway's 30 s", () => {
    expect(connectionTestTimeoutSeconds()).toBe(29);
  });

  it("may outlast it when two T-bounded operations and a second exceed 28 s", () => {
    expect(connectionTestMayOutlast(13)).toBe(false);
    expect(connectionTestMayOutlast(14)).toBe(true);
  });
});

describe("queue visibility", () => {
  it("is six function timeouts, at most SQS's 12 hours", () => {
    // The least Lambda accepts: a batch killed before the function held it is back this soon.
    expect(queueVisibilitySeconds(130)).toBe(130);
    expect(queueVisibilitySeconds(900)).toBe(900);
  });
});
