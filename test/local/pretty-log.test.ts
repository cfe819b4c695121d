/** The local run's terminal lines: a function's metrics (EMF) read as one short line, not raw JSON. */
import { describe, expect, it } from "vitest";
import { createMetricsPublisher } from "../../lib/metrics/index.ts";
import { prettyLogLine } from "../../local/pretty-log.ts";

describe("the local run's terminal", () => {
  it("shows a metrics line as the non-zero counts and each latency's count and largest value", () => {
    const lines: string[] = [];
    createMetricsPublisher({
      functionName: "send-notification",
      transport: "smtp",
      write: (l) => lines.push(l),
      now: () => Date.parse("2026-12-06T10:11:12Z"),
    }).publish({
      NotificationsSent: { unit: "Count", values: [3] },
      DeferredThrottle: { unit: "Count", values: [0] },
      EventToAcceptedMs: { unit: "Milliseconds", values: [120, 340, 80] },
    });
    expect(prettyLogLine(lines[0] as string)).toBe(
      "10:11:12 send-notification    metrics  NotificationsSent=3 EventToAcceptedMs=3×(max 340)",
    );
  });
});
