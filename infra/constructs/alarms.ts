/**
 * What pages the operator: one alarm per way the product can fail quietly (a notification in
 * the dead-letter queue, a function error, a security alert check that failed after its retries,
 * a provider refusing the settings: relay, sender, sign-in or policy), notifications late (the
 * queue's oldest message past `lateAfterMinutes`), and throttles that persist for 15 minutes,
 * each at the first occurrence, and all notifying one SNS topic, of the alarm and of its recovery:
 * an existing one, a new one mailing an address, or none (the alarms then only show in the
 * console, and synth warns).
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): a new topic would need its email subscription confirmed again.
 */
import { Annotations, Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { METRICS } from "../../lib/metrics/index.ts";
import { productMetric } from "./dashboard.ts";

export interface AlarmsProps {
  /** The notification queue's dead-letter queue: a message there failed every receive. */
  readonly deadLetterQueue: sqs.IQueue;

  /** The functions whose errors alarm, by name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;

  /** The security alert check's failure queue (`AlertSchedule.failures`). */
  readonly alertFailures: sqs.IQueue;

  /** The notification queue: its oldest message's age says whether notifications are late. */
  readonly queue: sqs.IQueue;

  /** Notifications are late past this many minutes in the queue (the `lateAfterMinutes` context). */
  readonly lateAfterMinutes: number;

  /**
   * An existing topic the alarms notify.
   *
   * @default - a new topic when `email` is given, else no topic
   */
  readonly topicArn?: string;

  /**
   * An address the alarms mail, through a new topic (or the topic of `topicArn`, when that is
   * given, which then gets no subscription from the stack).
   *
   * @default - no subscription
   */
  readonly email?: string;
}

export class Alarms {
  /** The topic the alarms notify, if any. */
  readonly topic?: sns.ITopic;
  /** Every alarm, by its id. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, props: AlarmsProps) {
    this.topic = props.topicArn
      ? sns.Topic.fromTopicArn(scope, "AlarmTopic", props.topicArn)
      : props.email
        ? new sns.Topic(scope, "AlarmTopic", { enforceSSL: true, displayName: "Mattermost email alarms" })
        : undefined;
    if (this.topic instanceof sns.Topic && props.email) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
    const action = this.topic ? new cwActions.SnsAction(this.topic) : undefined;
    if (!this.topic) {
      Annotations.of(scope).addWarningV2(
        "mm-email:alarmsNotifyNoOne",
        "Neither alarmEmail nor alarmTopicArn is set in context: the alarms (dead letters, function errors, failed alert checks) notify no one; deploy with -c alarmEmail=ops@example.com (docs/alarms.md)",
      );
    }
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      description: string,
      more: {
        threshold?: number;
        evaluationPeriods?: number;
        comparison?: cloudwatch.ComparisonOperator;
      } = {},
    ) => {
      const a = new cloudwatch.Alarm(scope, id, {
        metric,
        threshold: more.threshold ?? 1,
        evaluationPeriods: more.evaluationPeriods ?? 1,
        comparisonOperator:
          more.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      // Recovery is news too: the OK action tells whoever was paged that it has passed.
      if (action) {
        a.addAlarmAction(action);
        a.addOkAction(action);
      }
      alarms[id] = a;
    };
    const fiveMinutes = Duration.minutes(5);

    alarm(
      "DeadLetterAlarm",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: "Maximum",
      }),
      "Notifications in the dead-letter queue: they failed every retry (invalid bodies, rejected recipients, SMTP down). Inspect, fix, redrive.",
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}-errors`,
        fn.metricErrors({ period: fiveMinutes, statistic: "Sum" }),
        `The ${name} function failed (settings unreadable or invalid, or an unexpected error): see its log group.`,
      );
    }
    alarm(
      "AlertScheduleFailedAlarm",
      props.alertFailures.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: "Maximum",
      }),
      "The security alert check failed after its retries (feed unreachable, SMTP down, configuration): bulletins may be unsent.",
    );
    const send = props.functions["send-notification"];
    if (send) {
      alarm(
        "SettingsRefusedAlarm",
        productMetric(send, METRICS.deferred.settings, { period: fiveMinutes }),
        "The provider refused notifications because of the settings (relay or sender not allowed, sign-in refused, policy): they are retried with back-off, not dead-lettered, until the operator fixes the settings (mm-email test; mm-email trace).",
      );
      alarm(
        "ThrottlesPersistAlarm",
        productMetric(send, METRICS.deferred.throttle, { period: fiveMinutes }),
        "The provider has throttled notifications in each of the last 15 minutes: the configured maxSendRate or maxConnections is above what the provider allows, or another sender shares the account. Lower them (docs/delivery.md).",
        { evaluationPeriods: 3 },
      );
    }
    alarm(
      "LateNotificationsAlarm",
      props.queue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: "Maximum" }),
      `Notifications are late: the queue's oldest message is older than ${props.lateAfterMinutes} minutes (lateAfterMinutes). See the dashboard: throttles, settings refusals, or an outage of the provider.`,
      {
        threshold: props.lateAfterMinutes * 60,
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    this.alarms = alarms;
  }
}
