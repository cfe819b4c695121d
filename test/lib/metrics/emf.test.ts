/** EMF lines as CloudWatch reads them (test/helpers/emf.ts), within its limits. */
import { describe, expect, it } from "vitest";
import {
  createMetricsPublisher,
  EMF_LIMITS,
  emfLines,
  METRICS_NAMESPACE,
} from "../../../lib/metrics/index.ts";
import { readEmfLine } from "../../helpers/emf.ts";

describe("EMF lines", () => {
  it("name each metric with its unit, under the function's name, with the values beside the _aws block", () => {
    const lines: string[] = [];
    createMetricsPublisher({
      functionName: "stack-sendnotification-1",
      transport: "smtp",
      write: (l) => lines.push(l),
      now: () => 1_800_000_000_000,
    }).publish({
      NotificationsSent: { unit: "Count", values: [3] },
      EventToAcceptedMs: { unit: "Milliseconds", values: [120, 340] },
    });
    expect(lines).toHaveLength(1);
    const [read] = readEmfLine(lines[0] as string);
    expect(read?.namespace).toBe(METRICS_NAMESPACE);
    // One dimension set, the function's name; the transport rides along as a property.
    expect(
      read?.data.map((d) => [d.MetricName, d.Dimensions?.map((x) => x.Name).join("+"), d.Values]),
    ).toEqual([
      ["NotificationsSent", "Function", [3]],
      ["EventToAcceptedMs", "Function", [120, 340]],
    ]);
    expect(JSON.parse(lines[0] as string).Transport).toBe("smtp");
    expect(read?.data[1]?.Unit).toBe("Milliseconds");
  });

  it("split past CloudWatch's limits: 100 values a metric, 100 metrics a line", () => {
    const many = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`M${i}`, { unit: "Count" as const, values: [i] }]),
    );
    const lines = emfLines(
      { ...many, Latency: { unit: "Milliseconds", values: Array.from({ length: 250 }, (_, i) => i) } },
      { namespace: "N", dimensions: { Function: "f" }, timestamp: 0 },
    );
    const read = lines.flatMap((l) => readEmfLine(l).flatMap((d) => d.data));
    for (const l of lines)
      expect((JSON.parse(l)._aws.CloudWatchMetrics[0].Metrics as unknown[]).length).toBeLessThanOrEqual(
        EMF_LIMITS.metricsPerLine,
      );
    expect(read.filter((d) => d.MetricName === "Latency").map((d) => d.Values?.length)).toEqual([
      100, 100, 50,
    ]);
    expect(read.filter((d) => d.MetricName?.startsWith("M"))).toHaveLength(150);
  });

  it("write nothing when there is no value", () => {
    expect(
      emfLines(
        { Latency: { unit: "Milliseconds", values: [] } },
        { namespace: "N", dimensions: {}, timestamp: 0 },
      ),
    ).toEqual([]);
  });

  it("refuse a dimension set past 30, or a dimension without a value", () => {
    const dimensions = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, "x"]));
    expect(() =>
      emfLines({ A: { unit: "Count", values: [1] } }, { namespace: "N", dimensions, timestamp: 0 }),
    ).toThrow(/31 dimensions/);
    expect(() =>
      emfLines(
        { A: { unit: "Count", values: [1] } },
        { namespace: "N", dimensions: {}, dimensionSets: [["Function"]], timestamp: 0 },
      ),
    ).toThrow(/Function has no value/);
  });
});
