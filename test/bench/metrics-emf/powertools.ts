/**
 * The same batch's metrics through Powertools for AWS Lambda's Metrics, as a replacement for
 * lib/metrics's emf.ts and publisher.ts would publish them: the same namespace, metric names,
 * units, dimension set (Function alone) and Transport property, one EMF line on stdout.
 *
 * Powertools puts a `service` dimension into every set by default; the product's set is the
 * function's name alone, so the defaults are replaced by Function, fixed once per container as
 * the product fixes it. The transport is metadata: a property of the line, not a dimension. A
 * count is one addMetric (none for 0, as deliveryMetrics leaves it out); a latency list is one
 * addMetric per value, which Powertools stores as one metric with an array of values (flushing by
 * itself at 100).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRIC_DIMENSIONS, METRICS_NAMESPACE } from "../../../lib/metrics/names.ts";
import { deliveryMetrics } from "../../../lib/notifications/metrics.ts";
import { BATCH_REPORT, functionName } from "./batch.ts";

const name = functionName();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: name });
metrics.clearDefaultDimensions();
metrics.setDefaultDimensions({ [METRIC_DIMENSIONS.function]: name });

const UNITS = { Count: MetricUnit.Count, Milliseconds: MetricUnit.Milliseconds } as const;

export const handler = async () => {
  metrics.addMetadata(METRIC_DIMENSIONS.transport, "smtp");
  for (const [metric, { unit, values }] of Object.entries(deliveryMetrics(BATCH_REPORT))) {
    for (const value of values) metrics.addMetric(metric, UNITS[unit], value);
  }
  metrics.publishStoredMetrics();
  return { batchItemFailures: [] };
};
