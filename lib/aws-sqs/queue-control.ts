/**
 * QueueControl over SQS (lib/notifications/queue-control.ts): ChangeMessageVisibilityBatch on the
 * notification queue for back-offs, SendMessage to the dead-letter queue for a record that can
 * never succeed. It speaks the JSON protocol through the lite client (lib/aws/json-client.ts),
 * so a cold start loads none of the AWS SDK.
 */
import { type Env, type JsonClient, liteJsonClient } from "../aws/json-client.ts";
import type { DeadLetter, QueueControl, RetryLater } from "../notifications/queue-control.ts";

const SQS = { name: "sqs", targetPrefix: "AmazonSQS", jsonVersion: "1.0" } as const;

/** SQS takes at most 10 entries a batch call. */
const BATCH = 10;

/** The message attributes a dead-lettered record carries, so the dead-letter queue says why. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: "FailureReason",
  code: "FailureCode",
  receiveCount: "ReceiveCount",
  sourceMessageId: "SourceMessageId",
} as const;

export interface SqsQueueControlOptions {
  /** The lite client; default one from the environment's credentials. */
  client?: JsonClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/** SQS attribute values are strings of at most 256 KB; the reason is one line, kept short. */
const attribute = (value: string) => ({ DataType: "String", StringValue: value.slice(0, 1000) });

export function sqsQueueControl(options: SqsQueueControlOptions, env: Env = process.env): QueueControl {
  const client = options.client ?? liteJsonClient(SQS, env);
  if (!client) {
    throw new Error("SQS queue control needs credentials and a region in the environment");
  }
  return {
    async retryLater(items: readonly RetryLater[]) {
      const failed: string[] = [];
      for (let i = 0; i < items.length; i += BATCH) {
        const chunk = items.slice(i, i + BATCH);
        try {
          const out = await client.call<{ Failed?: Array<{ Id?: string }> }>("ChangeMessageVisibilityBatch", {
            QueueUrl: options.queueUrl,
            Entries: chunk.map((item, n) => ({
              Id: String(n),
              ReceiptHandle: item.receiptHandle,
              VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(item.delaySeconds))),
            })),
          });
          for (const f of out.Failed ?? []) {
            const item = chunk[Number(f.Id)];
            if (item) failed.push(item.id);
          }
        } catch {
          failed.push(...chunk.map((item) => item.id));
        }
      }
      return { failed };
    },
    async deadLetter(item: DeadLetter) {
      await client.call("SendMessage", {
        QueueUrl: options.deadLetterQueueUrl,
        MessageBody: item.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.reason]: attribute(item.reason),
          [DEAD_LETTER_ATTRIBUTES.code]: attribute(item.code),
          [DEAD_LETTER_ATTRIBUTES.receiveCount]: {
            DataType: "Number",
            StringValue: String(item.receiveCount),
          },
          [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: attribute(item.id),
        },
      });
    },
  };
}
