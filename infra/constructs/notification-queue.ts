/**
 * The notification path: a queue the chat server (or, optionally, an EventBridge rule) sends to,
 * read by send-notification in batches with partial batch responses, and a dead-letter queue for
 * what failed every receive. Both queues are encrypted (SQS-managed keys) and refuse plain HTTP.
 *
 * The visibility timeout follows the consumer's timeout (infra/sizing.ts), so a batch still being
 * sent is never handed to a second invocation.
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): a new logical id would be a new, empty queue.
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { queueVisibilitySeconds } from "../sizing.ts";

/** Events that become notifications: an EventBridge rule targeting the queue. */
export interface NotificationRuleProps {
  /**
   * The bus the rule listens on.
   *
   * @default - the account's default bus
   */
  readonly busName?: string;
  /** The EventBridge pattern of the events to queue. */
  readonly pattern: Record<string, unknown>;
}

export interface NotificationQueueProps {
  /** The function that sends the notifications; it consumes the queue. */
  readonly consumer: lambda.Function;

  /** Messages per invocation: the pooled SMTP connections serve a batch (context batchSize). */
  readonly batchSize: number;

  /** How long SQS gathers a batch before invoking (context maxBatchingWindowSeconds). */
  readonly maxBatchingWindow: Duration;

  /** Receives before a message moves to the dead-letter queue (context maxReceiveCount). */
  readonly maxReceiveCount: number;

  /**
   * An EventBridge rule sending matching events to the queue (undeliverable ones go to the
   * dead-letter queue).
   *
   * @default - no rule: producers send to the queue
   */
  readonly eventBridge?: NotificationRuleProps;
}

export class NotificationQueue {
  /** Where notifications are sent. */
  readonly queue: sqs.Queue;
  /** What failed every receive, kept 14 days for inspection and redrive. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, props: NotificationQueueProps) {
    const { consumer } = props;
    this.deadLetterQueue = new sqs.Queue(scope, "NotificationDLQ", {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(scope, "NotificationQueue", {
      // Lambda's own default timeout is 3 s.
      visibilityTimeout: Duration.seconds(queueVisibilitySeconds(consumer.timeout?.toSeconds() ?? 3)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
      }),
    );
    if (props.eventBridge) {
      const { busName, pattern } = props.eventBridge;
      const bus = busName ? events.EventBus.fromEventBusName(scope, "Bus", busName) : undefined;
      new events.Rule(scope, "NotificationRule", {
        ...(bus ? { eventBus: bus } : {}),
        eventPattern: pattern as events.EventPattern,
        targets: [new eventTargets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
        description: "Notification events to the notification queue",
      });
    }
  }
}
