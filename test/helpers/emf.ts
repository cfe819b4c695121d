/**
 * Reads an Embedded Metric Format line as CloudWatch Logs does, strictly: the `_aws` block with
 * its Timestamp and CloudWatchMetrics directives, every metric named there present at the top
 * level as a number or an array of at most 100 numbers, every dimension of every set present as a
 * string, at most 100 metrics a directive and 30 dimensions a set, units CloudWatch knows. A line
 * that breaks a rule throws, naming it; a valid one gives the datapoints CloudWatch would store
 * (one per dimension set), ready for PutMetricData.
 */
import type { MetricDatum, StandardUnit } from "@aws-sdk/client-cloudwatch";

const UNITS = new Set(["Count", "Milliseconds", "Seconds", "Bytes", "Percent", "None"]);

export interface EmfDatapoints {
  namespace: string;
  data: MetricDatum[];
}

export function readEmfLine(line: string): EmfDatapoints[] {
  const doc = JSON.parse(line) as Record<string, unknown>;
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws !== "object") throw new Error("no _aws block");
  if (typeof aws.Timestamp !== "number") throw new Error("_aws.Timestamp must be a number (epoch ms)");
  if (!Array.isArray(aws.CloudWatchMetrics)) throw new Error("_aws.CloudWatchMetrics must be an array");
  return aws.CloudWatchMetrics.map((directive: Record<string, unknown>) => {
    const namespace = directive.Namespace;
    if (typeof namespace !== "string" || namespace === "") throw new Error("a directive needs a Namespace");
    const sets = directive.Dimensions as unknown;
    if (!Array.isArray(sets)) throw new Error("Dimensions must be an array of arrays");
    const metrics = directive.Metrics as Array<{ Name?: unknown; Unit?: unknown }>;
    if (!Array.isArray(metrics) || metrics.length > 100) throw new Error("Metrics: 1 to 100 a directive");
    const data: MetricDatum[] = [];
    for (const set of sets as unknown[]) {
      if (!Array.isArray(set) || set.length > 30)
        throw new Error("a dimension set has at most 30 dimensions");
      const dimensions = set.map((name) => {
        const value = doc[name as string];
        if (typeof value !== "string") throw new Error(`dimension ${String(name)} has no string value`);
        return { Name: name as string, Value: value };
      });
      for (const m of metrics) {
        if (typeof m.Name !== "string") throw new Error("a metric needs a Name");
        if (m.Unit !== undefined && !UNITS.has(String(m.Unit))) throw new Error(`unit ${String(m.Unit)}`);
        const raw = doc[m.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        if (values.length === 0 || values.length > 100 || values.some((v) => typeof v !== "number")) {
          throw new Error(`metric ${m.Name}: a number or 1 to 100 numbers`);
        }
        data.push({
          MetricName: m.Name,
          Dimensions: dimensions,
          Timestamp: new Date(aws.Timestamp as number),
          Values: values as number[],
          Counts: values.map(() => 1),
          Unit: (m.Unit ?? "None") as StandardUnit,
        });
      }
    }
    return { namespace, data };
  });
}

/** The lines of a log that are EMF (they have an `_aws` block). */
export const emfOf = (lines: readonly string[]) => lines.filter((l) => l.includes('"_aws"'));
