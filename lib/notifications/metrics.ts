/**
 * A batch's report as metrics (lib/metrics): what was sent, deferred by why, dead-lettered by
 * why, and the latencies, one value each. A count of zero is left out: CloudWatch bills a custom
 * metric for each hour it has data, so a deployment that never meets a quota pays nothing for
 * DeferredQuota (the dashboard shows a gap, and the alarms treat missing data as fine).
 */
import { METRICS, type MetricValues } from "../metrics/index.ts";
import type { DeliveryReport } from "./deliver.ts";

export function deliveryMetrics(report: DeliveryReport): MetricValues {
  const count = (n: number) => ({ unit: "Count" as const, values: n > 0 ? [n] : [] });
  const ms = (values: readonly number[]) => ({ unit: "Milliseconds" as const, values });
  const { counts, timings } = report;
  return {
    [METRICS.sent]: count(counts.sent),
    [METRICS.failed]: count(report.failed.length),
    [METRICS.deferred.throttle]: count(counts.throttled),
    [METRICS.deferred.quota]: count(counts.quota),
    [METRICS.deferred.connection]: count(counts.transient),
    [METRICS.deferred.settings]: count(counts.settings),
    [METRICS.deadLettered.invalid]: count(counts.invalid),
    [METRICS.deadLettered.refused]: count(counts.permanent),
    [METRICS.eventToAccepted]: ms(timings.eventToAcceptedMs),
    [METRICS.sessionSetup]: ms(timings.sessionSetupMs),
    [METRICS.sendTime]: ms(timings.transactionMs),
  };
}
