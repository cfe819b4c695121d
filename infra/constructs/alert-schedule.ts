/**
 * The security alerts' trigger: an EventBridge Scheduler schedule invokes the alert check, both
 * the schedule's delivery and the asynchronous invocation are retried, and what still fails lands
 * in one failure queue (watched by an alarm), so a missed bulletin is never silent.
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why).
 */
import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";

export interface AlertScheduleProps {
  /** The security alert check the schedule invokes. */
  readonly check: lambda.IFunction;

  /** EventBridge Scheduler expression: `rate(...)`, `cron(...)` or `at(...)` (context alertSchedule). */
  readonly schedule: string;

  /**
   * Retries of a failed delivery, and of a failed invocation, before the failure queue.
   *
   * @default 2
   */
  readonly retryAttempts?: number;

  /**
   * How long a delivery or an invocation is retried before the failure queue.
   *
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
}

export class AlertSchedule {
  /** Failed security-alert invocations and schedule deliveries land here, kept 14 days. */
  readonly failures: sqs.Queue;
  /** The schedule. */
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, props: AlertScheduleProps) {
    const retryAttempts = props.retryAttempts ?? 2;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    this.failures = new sqs.Queue(scope, "AlertFailures", {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    new lambda.EventInvokeConfig(scope, "AlertInvokeConfig", {
      function: props.check,
      retryAttempts,
      maxEventAge,
      onFailure: new SqsDestination(this.failures),
    });
    this.schedule = new scheduler.Schedule(scope, "AlertSchedule", {
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      description: "Checks the security bulletin feed",
      target: new LambdaInvoke(props.check, { retryAttempts, maxEventAge, deadLetterQueue: this.failures }),
    });
  }
}
