/**
 * `status`: the queue's depth, in-flight count and oldest message's age (CloudWatch, when it has
 * a datapoint), the dead-letter queue's depth, the stack's alarms in ALARM, the last security
 * alert check, and the provider limits send-notification really runs with (a rate and a
 * connection limit it learned from the provider's refusals, when none is configured: its newest
 * log line about each).
 *
 * One file of about 350 lines: each part of the report is a small reader of one AWS source, and
 * the table and the JSON are written from them in one place, so a field has one name in both.
 * What the functions published (metrics, the learned rate and limit) is read in cli/published.ts.
 */
import {
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import { ListEventSourceMappingsCommand } from "@aws-sdk/client-lambda";
import { readVariable } from "../../functions/environment.ts";
import { STACK_OUTPUTS } from "../../infra/outputs.ts";
import { MIN_MAX_CONCURRENCY } from "../../infra/provider-limits.ts";
import { SENT_MARKER_FOLDERS } from "../../lib/security-alerts/index.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { localError } from "../local.ts";
import { EXIT, printJson, table } from "../output.ts";
import { type LastHour, lastHourOfDelivery, learnedConnections, learnedRate } from "../published.ts";
import { queueDepth } from "../queue-depth.ts";

/**
 * What `status` reports. Each field has one type; `null` means there is none (no limit, no run,
 * no bulletin), and a field that could not be read is left out (`--json` then has no such key),
 * which the table shows as "unknown".
 */
export interface Status {
  queue: { visible: number; inFlight: number; delayed: number; oldestAgeSeconds?: number };
  /** send-notification's last hour, from its metrics (left out when unknown: the local run, or CloudWatch unread). */
  lastHour?: LastHour;
  deadLetterQueue: { depth: number };
  alarmsInAlarm?: Array<{ name: string; reason?: string }>;
  securityAlerts: {
    /** The alert check's last run, from its Lambda metrics: when, and whether it failed; null: none in 7 days. */
    lastRun?: { at: string; result: "ok" | "failed" } | null;
    /** The newest SecurityAlerts/Sent marker; null: no bulletin mailed yet. */
    lastSentMarkerAt?: string | null;
    checkFunctionLastModified?: string;
  };
  limits: {
    poolSize?: number;
    /** null: no rate limit. */
    sendRatePerSecond?: number | null;
    /** null: Lambda's own scaling, no maximum. */
    maxConcurrency?: number | null;
    /** The fleet's send schedule (docs/delivery.md), when the provider has a rate; null: none. */
    fleetSchedule?: { ratePerSecond: number; table: string } | null;
    /**
     * With no rate configured: the share a container learned from the provider's throttle in the
     * last 24 hours (send-notification's newest line about it), with the maxSendRate it suggests
     * when the containers' maximum is known; null: none learned.
     */
    learned?: { perSecond: number; at: string; suggestedMaxSendRate?: number } | null;
    /**
     * With no connection limit configured: the limit the fleet learned from the provider's refusal
     * in the last 24 hours (the newest line about it), the maxConnections to set; null: none.
     */
    learnedConnections?: { connections: number; at: string } | null;
  };
}

function queueCounts(ctx: CliContext, url: string) {
  return awsCall(`read the attributes of queue ${url}`, () => queueDepth(ctx.aws().sqs, url));
}

/** CloudWatch's newest ApproximateAgeOfOldestMessage of the last 15 minutes, or undefined (unknown). */
async function oldestAge(ctx: CliContext, url: string): Promise<number | undefined> {
  const queueName = url.split("/").at(-1) ?? "";
  const now = Date.now();
  try {
    const out = await ctx.aws().cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Dimensions: [{ Name: "QueueName", Value: queueName }],
        StartTime: new Date(now - 15 * 60_000),
        EndTime: new Date(now),
        Period: 60,
        Statistics: ["Maximum"],
      }),
    );
    const newest = (out.Datapoints ?? []).sort(
      (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
    )[0];
    return newest?.Maximum;
  } catch {
    return undefined;
  }
}

async function alarmsInAlarm(ctx: CliContext): Promise<Status["alarmsInAlarm"]> {
  const stack = await ctx.stack();
  const named = stack.resources
    .filter((r) => r.ResourceType === "AWS::CloudWatch::Alarm" && r.PhysicalResourceId)
    .map((r) => r.PhysicalResourceId as string);
  try {
    const found: MetricAlarm[] = [];
    // CloudFormation names the alarms it creates `<stack>-<logical id>-<suffix>`.
    const byPrefix = await ctx
      .aws()
      .cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${stack.name}-`, StateValue: "ALARM" }));
    found.push(...(byPrefix.MetricAlarms ?? []));
    for (let i = 0; i < named.length; i += 100) {
      const out = await ctx
        .aws()
        .cloudWatch.send(
          new DescribeAlarmsCommand({ AlarmNames: named.slice(i, i + 100), StateValue: "ALARM" }),
        );
      found.push(...(out.MetricAlarms ?? []));
    }
    const unique = new Map(found.map((a) => [a.AlarmName, a]));
    return [...unique.values()].map((a) => ({
      name: a.AlarmName ?? "",
      ...(a.StateReason ? { reason: a.StateReason } : {}),
    }));
  } catch {
    return undefined; // not allowed to read them: unknown
  }
}

async function lastAlertCheck(ctx: CliContext): Promise<Status["securityAlerts"]> {
  const stack = await ctx.stack();
  const root = await stack.settingsRoot();
  let lastSentMarkerAt: string | null | undefined;
  try {
    let token: string | undefined;
    let newest = 0;
    for (let page = 0; page < 20; page++) {
      const out = await ctx
        .aws()
        .ssm.call<{ Parameters?: Array<{ LastModifiedDate?: Date }>; NextToken?: string }>(
          "GetParametersByPath",
          {
            Path: `${root}/${SENT_MARKER_FOLDERS.sent}`,
            MaxResults: 10,
            ...(token ? { NextToken: token } : {}),
          },
        );
      for (const p of out.Parameters ?? [])
        newest = Math.max(newest, p.LastModifiedDate ? new Date(p.LastModifiedDate).getTime() : 0);
      token = out.NextToken;
      if (!token) break;
    }
    lastSentMarkerAt = newest ? new Date(newest).toISOString() : null;
  } catch {
    // unknown: not allowed to read them, say so
  }
  const fn = await stack.functionConfig("security-alert-check").catch(() => undefined);
  const physical = stack.functionName("security-alert-check");
  return {
    ...(physical ? { lastRun: await lastRun(ctx, physical) } : {}),
    ...(lastSentMarkerAt === undefined ? {} : { lastSentMarkerAt }),
    ...(fn?.lastModified ? { checkFunctionLastModified: fn.lastModified } : {}),
  };
}

/**
 * The function's last run from its CloudWatch metrics (AWS/Lambda Invocations and Errors, hourly
 * over a week): the newest hour with an invocation, failed when that hour has errors. A run fails
 * when a bulletin could not be sent or the run was capped (docs/functions.md).
 */
async function lastRun(ctx: CliContext, functionName: string): Promise<Status["securityAlerts"]["lastRun"]> {
  const now = Date.now();
  const sums = async (metric: "Invocations" | "Errors") => {
    const out = await ctx.aws().cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/Lambda",
        MetricName: metric,
        Dimensions: [{ Name: "FunctionName", Value: functionName }],
        StartTime: new Date(now - 7 * 24 * 3600_000),
        EndTime: new Date(now),
        Period: 3600,
        Statistics: ["Sum"],
      }),
    );
    return new Map((out.Datapoints ?? []).map((d) => [d.Timestamp?.getTime() ?? 0, d.Sum ?? 0]));
  };
  try {
    const [invocations, errors] = await Promise.all([sums("Invocations"), sums("Errors")]);
    const hours = [...invocations].filter(([, n]) => n > 0).map(([t]) => t);
    if (hours.length === 0) return null;
    const newest = Math.max(...hours);
    return { at: new Date(newest).toISOString(), result: (errors.get(newest) ?? 0) > 0 ? "failed" : "ok" };
  } catch {
    return undefined;
  }
}

async function limits(ctx: CliContext): Promise<Status["limits"]> {
  const stack = await ctx.stack();
  const fn = await stack.functionConfig("send-notification");
  if (!fn) return {};
  const table = readVariable(fn.environment, "SEND_SCHEDULE_TABLE");
  const fleetRate = readVariable(fn.environment, "FLEET_SEND_RATE_PER_SECOND");
  const rate = readVariable(fn.environment, "SEND_RATE_PER_SECOND");
  let maxConcurrency: Status["limits"]["maxConcurrency"];
  try {
    const out = await ctx.aws().lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fn.name }));
    const queueArn = stack.outputs[STACK_OUTPUTS.notificationQueueArn];
    const mapping =
      (out.EventSourceMappings ?? []).find((m) => !queueArn || m.EventSourceArn === queueArn) ??
      out.EventSourceMappings?.[0];
    if (mapping) maxConcurrency = mapping.ScalingConfig?.MaximumConcurrency ?? null;
  } catch {
    // unknown
  }
  // What the fleet learns where the stack knows nothing: a rate without one, a connection limit without one.
  const logGroup = stack.logGroupName("send-notification");
  const knownConnections = readVariable(fn.environment, "FLEET_MAX_CONNECTIONS");
  const [learned, connections] = await Promise.all([
    fleetRate === undefined && rate === undefined ? learnedRate(ctx, logGroup) : null,
    knownConnections === undefined ? learnedConnections(ctx, logGroup) : null,
  ]);
  // The containers sending at once: the maximum when there is one, else the learned connections
  // over the pool (each container holds a pool of them).
  const poolSize = readVariable(fn.environment, "NOTIFICATION_POOL_SIZE");
  const sendingAtOnce =
    maxConcurrency ??
    (connections ? Math.max(1, Math.floor(connections.connections / (poolSize ?? 1))) : undefined);
  return {
    poolSize,
    sendRatePerSecond: rate ?? null,
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    fleetSchedule: table && fleetRate ? { ratePerSecond: fleetRate, table } : null,
    ...(learned === undefined
      ? {}
      : {
          learned:
            learned && sendingAtOnce
              ? {
                  ...learned,
                  suggestedMaxSendRate: Math.round(learned.perSecond * sendingAtOnce * 1000) / 1000,
                }
              : learned,
        }),
    ...(connections === undefined ? {} : { learnedConnections: connections }),
  };
}

async function deployedStatus(ctx: CliContext): Promise<Status> {
  const stack = await ctx.stack();
  const queueUrl = stack.output(STACK_OUTPUTS.notificationQueueUrl);
  const dlqUrl = stack.output(STACK_OUTPUTS.deadLetterQueueUrl);
  const sender = stack.functionName("send-notification");
  const [q, d, age, alarms, alerts, lim, hour] = await Promise.all([
    queueCounts(ctx, queueUrl),
    queueCounts(ctx, dlqUrl),
    oldestAge(ctx, queueUrl),
    alarmsInAlarm(ctx),
    lastAlertCheck(ctx),
    limits(ctx),
    sender ? lastHourOfDelivery(ctx, sender) : undefined,
  ]);
  return {
    queue: { ...q, ...(age === undefined ? {} : { oldestAgeSeconds: age }) },
    ...(hour === undefined ? {} : { lastHour: hour }),
    deadLetterQueue: { depth: d.visible + d.inFlight + d.delayed },
    ...(alarms === undefined ? {} : { alarmsInAlarm: alarms }),
    securityAlerts: alerts,
    limits: lim,
  };
}

async function localStatus(ctx: CliContext): Promise<Status & { smtp?: unknown }> {
  const local = ctx.local;
  if (!local) throw new Error("not local");
  const a = await local.get("/api/queue");
  if (a.status !== 200) throw localError(a, "GET /api/queue");
  const b = a.body as {
    queue: { visible: number; delayed: number; inFlight: number; deadLetterDepth: number };
    config: { maxConcurrency: number };
    smtp: unknown;
  };
  return {
    queue: {
      visible: b.queue.visible,
      inFlight: b.queue.inFlight,
      delayed: b.queue.delayed,
    },
    deadLetterQueue: { depth: b.queue.deadLetterDepth },
    securityAlerts: {},
    limits: { maxConcurrency: b.config.maxConcurrency, fleetSchedule: null },
    smtp: b.smtp,
  };
}

export async function status(ctx: CliContext, { json = false }: { json?: boolean } = {}): Promise<number> {
  const s = ctx.local ? await localStatus(ctx) : await deployedStatus(ctx);
  const alarming = Array.isArray(s.alarmsInAlarm) && s.alarmsInAlarm.length > 0;
  if (json) printJson(ctx, s);
  else {
    const { queue, securityAlerts: alerts, limits: lim } = s;
    const known = <T>(value: T | undefined, show: (v: T) => string) =>
      value === undefined ? "unknown" : show(value);
    const alarms = known(s.alarmsInAlarm, (list) =>
      list.length === 0 ? "none in ALARM" : list.map((a) => a.name).join(", "),
    );
    const lastRun = known(alerts.lastRun, (r) => (r === null ? "none in 7 days" : `${r.at} (${r.result})`));
    ctx.stdout.write(
      table([
        [
          "Queue",
          `${queue.visible} waiting, ${queue.inFlight} in flight, ${queue.delayed} delayed; oldest ${known(queue.oldestAgeSeconds, (a) => `${a} s`)}`,
        ],
        [
          "Last hour",
          known(s.lastHour, (h) => {
            const ms = (v: number | null) => (v === null ? "none" : `${v} ms`);
            return `${h.sent} sent; deferred ${h.deferred.throttle} throttle, ${h.deferred.quota} quota, ${h.deferred.connection} connection, ${h.deferred.settings} settings; dead-lettered ${h.deadLettered.invalid} invalid, ${h.deadLettered.refused} refused; event to accepted p50 ${ms(h.eventToAcceptedMs.p50)}, p99 ${ms(h.eventToAcceptedMs.p99)}`;
          }),
        ],
        [
          "Dead letters",
          `${s.deadLetterQueue.depth}${s.deadLetterQueue.depth ? " (mm-email dlq list)" : ""}`,
        ],
        ["Alarms", alarms],
        [
          "Security alerts",
          `last check: ${lastRun}; last bulletin mailed: ${known(alerts.lastSentMarkerAt, (at) => at ?? "none")}; check function updated: ${known(alerts.checkFunctionLastModified, String)}`,
        ],
        [
          "Provider limits",
          `pool ${known(lim.poolSize, String)} per container, ${known(lim.sendRatePerSecond, (r) => (r === null ? "unlimited" : String(r)))} msg/s per container, at most ${known(lim.maxConcurrency, (m) => (m === null ? "unlimited" : String(m)))} containers; fleet schedule: ${known(
            lim.fleetSchedule,
            (f) => (f === null ? "none" : `${f.ratePerSecond} msg/s (table ${f.table})`),
          )}${
            lim.learned
              ? `; learned ${lim.learned.perSecond} msg/s per container at ${lim.learned.at}${
                  lim.learned.suggestedMaxSendRate
                    ? ` (set maxSendRate ${lim.learned.suggestedMaxSendRate} to keep it)`
                    : " (set maxSendRate to it × the containers sending at once to keep it)"
                }`
              : ""
          }${
            lim.learnedConnections
              ? `; learned a limit of ${lim.learnedConnections.connections} connections at ${lim.learnedConnections.at} ${
                  lim.learnedConnections.connections >= MIN_MAX_CONCURRENCY
                    ? `(set maxConnections ${lim.learnedConnections.connections} to keep it)`
                    : `(below the lowest maxConnections, ${MIN_MAX_CONCURRENCY}: Lambda runs at least ${MIN_MAX_CONCURRENCY} containers on a queue; another client may hold the provider's connections)`
                }`
              : ""
          }`,
        ],
      ]),
    );
  }
  return alarming ? EXIT.failed : EXIT.ok;
}
