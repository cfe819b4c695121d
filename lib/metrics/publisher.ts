/**
 * What a function publishes its metrics with: the namespace and its dimensions fixed once per
 * container, then `publish(values)` writes the EMF lines where the function's log lines go.
 */
import { emfLines, type MetricValues } from "./emf.ts";
import { METRIC_DIMENSION_SETS, METRIC_DIMENSIONS, METRICS_NAMESPACE } from "./names.ts";

export interface MetricsPublisherOptions {
  /** The function's physical name (AWS_LAMBDA_FUNCTION_NAME). */
  functionName: string;
  /** smtp or ses. */
  transport: string;
  /** Where the lines go: the function's log (stdout in Lambda). */
  write: (line: string) => void;
  /** Epoch ms; injectable for tests. Default Date.now. */
  now?: () => number;
}

export interface MetricsPublisher {
  /** Writes the values as EMF lines (none when every list is empty). */
  publish(values: MetricValues): void;
}

export function createMetricsPublisher(options: MetricsPublisherOptions): MetricsPublisher {
  const now = options.now ?? Date.now;
  return {
    publish(values) {
      const lines = emfLines(values, {
        namespace: METRICS_NAMESPACE,
        dimensions: {
          [METRIC_DIMENSIONS.function]: options.functionName,
          [METRIC_DIMENSIONS.transport]: options.transport,
        },
        dimensionSets: METRIC_DIMENSION_SETS,
        timestamp: now(),
      });
      for (const line of lines) options.write(line);
    },
  };
}
