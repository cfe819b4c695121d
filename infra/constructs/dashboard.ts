/**
 * The stack's dashboard: what the product did in the last hours, a minute at a time, from the
 * functions' own metrics (lib/metrics: EMF) beside AWS's (SQS, Lambda). Rows: notifications sent,
 * deferred by why and dead-lettered by why; the time from event to the server's acceptance (p50,
 * p99) and the session's set-up; the queue's depth and its oldest message's age; throttles (the
 * fleet pauses at each); each function's errors and duration; the security alert check's runs.
 *
 * Adds its resources to `scope` itself, like every part of the stack (infra/stack.ts says why).
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from "../../lib/metrics/index.ts";

export interface DashboardProps {
  /** The three functions, by name: send-notification's metrics, and each one's errors and duration. */
  readonly functions: Readonly<
    Record<"send-notification" | "security-alert-check" | "connection-test", lambda.IFunction>
  >;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** One of the product's metrics of a function, by its name (lib/metrics/names.ts). */
export function productMetric(
  fn: lambda.IFunction,
  metricName: string,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [METRIC_DIMENSIONS.function]: fn.functionName },
    statistic: options.statistic ?? "Sum",
    period: options.period ?? Duration.minutes(1),
    ...(options.label ? { label: options.label } : {}),
  });
}

export class Dashboard {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, props: DashboardProps) {
    const send = props.functions["send-notification"];
    const minute = Duration.minutes(1);
    const m = (name: string, label: string, statistic = "Sum") =>
      productMetric(send, name, { statistic, period: minute, label });
    this.dashboard = new cloudwatch.Dashboard(scope, "Dashboard", {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Notifications a minute",
        width: 12,
        left: [
          m(METRICS.sent, "sent"),
          m(METRICS.failed, "reported failed (to be received again)"),
          m(METRICS.deferred.throttle, "deferred: throttle"),
          m(METRICS.deferred.quota, "deferred: quota"),
          m(METRICS.deferred.connection, "deferred: connection"),
          m(METRICS.deferred.settings, "deferred: settings"),
          m(METRICS.deadLettered.invalid, "dead-lettered: invalid"),
          m(METRICS.deadLettered.refused, "dead-lettered: refused"),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: "Event to accepted (ms)",
        width: 12,
        left: [
          m(METRICS.eventToAccepted, "p50", "p50"),
          m(METRICS.eventToAccepted, "p99", "p99"),
          m(METRICS.sessionSetup, "session set-up p50", "p50"),
          m(METRICS.sendTime, "send p50", "p50"),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Queue",
        width: 12,
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: minute, label: "waiting" }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({
            period: minute,
            label: "in flight or backed off",
          }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: minute,
            label: "dead letters",
          }),
        ],
        right: [
          props.queue.metricApproximateAgeOfOldestMessage({ period: minute, label: "oldest message (s)" }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: "Throttles (each pauses the fleet)",
        width: 12,
        left: [m(METRICS.deferred.throttle, "throttled or paused"), m(METRICS.deferred.quota, "quota spent")],
      }),
    );
    const fns = Object.entries(props.functions);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Errors",
        width: 8,
        left: fns.map(([name, fn]) => fn.metricErrors({ period: minute, statistic: "Sum", label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: "Duration p99 (ms)",
        width: 8,
        left: fns.map(([name, fn]) => fn.metricDuration({ period: minute, statistic: "p99", label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: "Security alert check runs",
        width: 8,
        left: [
          props.functions["security-alert-check"].metricInvocations({
            period: Duration.hours(1),
            statistic: "Sum",
            label: "runs",
          }),
          props.functions["security-alert-check"].metricErrors({
            period: Duration.hours(1),
            statistic: "Sum",
            label: "failed",
          }),
          productMetric(props.functions["security-alert-check"], METRICS.bulletinsSent, {
            period: Duration.hours(1),
            label: "bulletins mailed",
          }),
        ],
      }),
    );
  }
}
