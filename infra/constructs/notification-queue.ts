/**
 * The notification path: a queue the chat server (or, optionally, an EventBridge rule) sends to,
 * read by send-notification in batches with partial batch responses, and a dead-letter queue for
 * what failed every receive. Both queues are encrypted (SQS-managed keys, so the consumer needs
 * no KMS grant) and refuse plain HTTP.
 *
 * The visibility timeout follows the consumer's timeout (infra/sizing.ts), so a batch still being
 * sent is never handed to a second invocation. The consumer sets a throttled record's own
 * visibility (its back-off, lib/notifications/backoff.ts) and puts a record that can never
 * succeed on the dead-letter queue at once: it gets both queues' URLs (NOTIFICATION_QUEUE_URL,
 * DEAD_LETTER_QUEUE_URL) and may do exactly that, `sqs:ChangeMessageVisibility` on the queue and
 * `sqs:SendMessage` on the dead-letter queue (the batch APIs take the same permissions). The
 * consumer's environment naming the queue while the queue's event source names the consumer is
 * no cycle: the queue itself depends on nothing of the function.
 *
 * The event source's maximum concurrency (the containers sending at once) comes from the
 * provider's limits (infra/provider-limits.ts).
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): a new logical id would be a new, empty queue.
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { DEAD_LETTER_MAX_BYTES, NOTIFICATION_MAX_BYTES } from "../../lib/aws-sqs/index.ts";
import { queueVisibilitySeconds } from "../sizing.ts";
import { addFunctionEnvironment } from "./email-function.ts";

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
   * Containers of the consumer the queue may keep busy at once (the event source mapping's
   * MaximumConcurrency, 2 to 1000), derived from the provider's limits.
   *
   * @default - no limit of the event source's own: Lambda scales with the queue
   */
  readonly maxConcurrency?: number;

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
      // Larger than the queue's, so the largest record fits with its reason's attributes.
      maxMessageSizeBytes: DEAD_LETTER_MAX_BYTES,
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(scope, "NotificationQueue", {
      // Lambda's own default timeout is 3 s.
      visibilityTimeout: Duration.seconds(queueVisibilitySeconds(consumer.timeout?.toSeconds() ?? 3)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      maxMessageSizeBytes: NOTIFICATION_MAX_BYTES,
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
        ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
      }),
    );
    // What the consumer asks of its queues beyond consuming (lib/notifications/queue-control.ts).
    addFunctionEnvironment(consumer, {
      NOTIFICATION_QUEUE_URL: this.queue.queueUrl,
      DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
    });
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "BackOffThrottledRecords",
        actions: ["sqs:ChangeMessageVisibility"],
        resources: [this.queue.queueArn],
      }),
    );
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "DeadLetterUnsendableRecords",
        actions: ["sqs:SendMessage"],
        resources: [this.deadLetterQueue.queueArn],
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
