/**
 * The product's metrics as CloudWatch Embedded Metric Format: one JSON log line that CloudWatch
 * Logs turns into metrics, with no call to make and no SDK to load. The line's `_aws` block names
 * the namespace, the dimension sets and each metric's unit; the dimension values and the metric
 * values sit beside it as top-level properties. CloudWatch's limits are kept by splitting: at most
 * 100 metrics a line, 100 values a metric, 30 dimensions a set
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * Hand-written rather than Powertools Metrics: BENCHMARKS.md has the measurement. Nothing here is
 * a recipient, an address or a secret: the values are counts and milliseconds, the dimensions the
 * function's name and the transport.
 */

export type MetricUnit = "Count" | "Milliseconds";

/** CloudWatch's limits on one EMF line. */
export const EMF_LIMITS = { metricsPerLine: 100, valuesPerMetric: 100, dimensionsPerSet: 30 } as const;

export interface MetricsLineOptions {
  namespace: string;
  /** Dimension name → value, the same for every metric of the line. */
  dimensions: Readonly<Record<string, string>>;
  /** The dimension sets each metric is published under, by dimension name. Default: all of them, as one set. */
  dimensionSets?: ReadonlyArray<readonly string[]>;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** Metric name → unit and values (a count is one value; latencies one value each). */
export type MetricValues = Readonly<Record<string, { unit: MetricUnit; values: readonly number[] }>>;

/** The EMF lines for these metrics: none when there is no value, more than one past CloudWatch's limits. */
export function emfLines(metrics: MetricValues, options: MetricsLineOptions): string[] {
  const sets = options.dimensionSets ?? [Object.keys(options.dimensions)];
  for (const set of sets) {
    if (set.length > EMF_LIMITS.dimensionsPerSet) {
      throw new Error(
        `An EMF dimension set has ${set.length} dimensions; CloudWatch takes ${EMF_LIMITS.dimensionsPerSet}`,
      );
    }
    for (const name of set) {
      if (!(name in options.dimensions)) throw new Error(`EMF dimension ${name} has no value`);
    }
  }
  // Each (metric, up to 100 values) is one entry; a line takes up to 100 entries of distinct metrics.
  const entries: Array<[string, MetricUnit, number[]]> = [];
  for (const [name, { unit, values }] of Object.entries(metrics)) {
    const finite = values.filter((v) => Number.isFinite(v));
    for (let i = 0; i < finite.length; i += EMF_LIMITS.valuesPerMetric) {
      entries.push([name, unit, finite.slice(i, i + EMF_LIMITS.valuesPerMetric)]);
    }
  }
  const lines: Array<Array<[string, MetricUnit, number[]]>> = [];
  for (const entry of entries) {
    const line = lines.find((l) => l.length < EMF_LIMITS.metricsPerLine && !l.some(([n]) => n === entry[0]));
    if (line) line.push(entry);
    else lines.push([entry]);
  }
  return lines.map((line) =>
    JSON.stringify({
      _aws: {
        Timestamp: options.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: options.namespace,
            Dimensions: sets.map((s) => [...s]),
            Metrics: line.map(([name, unit]) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      ...options.dimensions,
      ...Object.fromEntries(line.map(([name, , values]) => [name, values.length === 1 ? values[0] : values])),
    }),
  );
}
