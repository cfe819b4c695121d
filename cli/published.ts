/**
 * What the deployed functions published about their work, read back for `mm-email status`: the
 * last hour of send-notification's metrics (lib/metrics: sent, deferred by why, dead-lettered by
 * why, event to accepted p50 and p99) from CloudWatch, and the newest rate and connection limit it
 * learned from the provider's refusals, from its log group. Each reader answers undefined when it could not read (unknown).
 */
import { GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { parseJsonObject } from "../lib/json.ts";
import { METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from "../lib/metrics/index.ts";
import { CONNECTION_LIMIT_MESSAGE } from "../lib/notifications/connection-leases.ts";
import { LEARNED_RATE_MESSAGE } from "../lib/notifications/learned-rate.ts";
import type { CliContext } from "./context.ts";

export interface LastHour {
  sent: number;
  deferred: { throttle: number; quota: number; connection: number; settings: number };
  deadLettered: { invalid: number; refused: number };
  /** Milliseconds from the event to the server's acceptance; null: nothing was accepted. */
  eventToAcceptedMs: { p50: number | null; p99: number | null };
}

const HOUR = 3600;

/** send-notification's last hour, summed; undefined when CloudWatch could not be read. */
export async function lastHourOfDelivery(
  ctx: CliContext,
  functionName: string,
): Promise<LastHour | undefined> {
  // To the end of the current minute: CloudWatch's end is exclusive, and the newest datapoint is
  // this minute's.
  const end = new Date(Math.ceil((Date.now() + 1) / 60_000) * 60_000);
  const start = new Date(end.getTime() - HOUR * 1000);
  const query = (id: string, metricName: string, stat: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: METRICS_NAMESPACE,
        MetricName: metricName,
        Dimensions: [{ Name: METRIC_DIMENSIONS.function, Value: functionName }],
      },
      Period: HOUR,
      Stat: stat,
    },
  });
  const sums = {
    sent: METRICS.sent,
    throttle: METRICS.deferred.throttle,
    quota: METRICS.deferred.quota,
    connection: METRICS.deferred.connection,
    settings: METRICS.deferred.settings,
    invalid: METRICS.deadLettered.invalid,
    refused: METRICS.deadLettered.refused,
  };
  try {
    const out = await ctx.aws().cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        MetricDataQueries: [
          ...Object.entries(sums).map(([id, name]) => query(id, name, "Sum")),
          query("p50", METRICS.eventToAccepted, "p50"),
          query("p99", METRICS.eventToAccepted, "p99"),
        ],
      }),
    );
    const values = new Map((out.MetricDataResults ?? []).map((r) => [r.Id ?? "", r.Values ?? []]));
    const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
    // One period of an hour may straddle two: the latest value is the hour's.
    const last = (id: string) => {
      const v = values.get(id) ?? [];
      return v.length ? Math.round(Math.max(...v)) : null;
    };
    return {
      sent: sum("sent"),
      deferred: {
        throttle: sum("throttle"),
        quota: sum("quota"),
        connection: sum("connection"),
        settings: sum("settings"),
      },
      deadLettered: { invalid: sum("invalid"), refused: sum("refused") },
      eventToAcceptedMs: { p50: last("p50"), p99: last("p99") },
    };
  } catch {
    return undefined;
  }
}

/**
 * The newest line of the last 24 hours in which send-notification said `message`, with its
 * positive number `field`; null: none; undefined: unknown.
 */
async function newestLearning(
  ctx: CliContext,
  logGroup: string | undefined,
  message: string,
  field: string,
): Promise<{ value: number; at: string } | null | undefined> {
  if (!logGroup) return undefined;
  try {
    const out = await ctx.aws().logs.send(
      new FilterLogEventsCommand({
        logGroupName: logGroup,
        filterPattern: JSON.stringify(message.split(":")[0]),
        startTime: Date.now() - 24 * HOUR * 1000,
      }),
    );
    let newest: { value: number; at: string } | null = null;
    for (const e of out.events ?? []) {
      const line = parseJsonObject(e.message ?? "");
      const value = Number(line?.[field]);
      if (line?.message !== message || !(value > 0)) continue;
      const at = new Date(e.timestamp ?? 0).toISOString();
      if (!newest || at > newest.at) newest = { value, at };
    }
    return newest;
  } catch {
    return undefined;
  }
}

/** The newest rate send-notification learned in the last 24 hours (a container's share); null: none; undefined: unknown. */
export async function learnedRate(
  ctx: CliContext,
  logGroup: string | undefined,
): Promise<{ perSecond: number; at: string } | null | undefined> {
  const got = await newestLearning(ctx, logGroup, LEARNED_RATE_MESSAGE, "learnedPerSecond");
  return got ? { perSecond: got.value, at: got.at } : got;
}

/** The newest connection limit send-notification learned in the last 24 hours (the fleet's); null: none; undefined: unknown. */
export async function learnedConnections(
  ctx: CliContext,
  logGroup: string | undefined,
): Promise<{ connections: number; at: string } | null | undefined> {
  const got = await newestLearning(ctx, logGroup, CONNECTION_LIMIT_MESSAGE, "learnedConnections");
  return got ? { connections: got.value, at: got.at } : got;
}
