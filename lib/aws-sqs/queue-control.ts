/**
 * QueueControl over SQS (lib/notifications/queue-control.ts): ChangeMessageVisibilityBatch on the
 * notification queue for back-offs and holds, DeleteMessageBatch for records the server accepted,
 * SendMessage to the dead-letter queue for a record that can never succeed. It speaks the JSON
 * protocol through the lite client (lib/aws/json-client.ts), so a cold start loads none of the
 * AWS SDK.
 *
 * Each answer is checked before it is believed: a record counts as dead-lettered only when
 * SendMessage answered its MessageId, and an entry of a batch call as done only when the answer's
 * `Successful` list names it (an answer without one, or a malformed one, fails every entry).
 * An absent list is an empty one: SQS's JSON protocol leaves out an empty `Failed`, though its
 * model calls it required (aws/aws-sdk#657). The visibility changes and the deletes are safe to
 * send twice, so the client may retry them after a timeout; SendMessage is not (a second copy on
 * the dead-letter queue), so it is sent again only when it surely did not arrive.
 */
import * as z from "zod/mini";
import { AwsResponseError, type Env, type JsonClient, liteJsonClient } from "../aws/json-client.ts";
import type {
  CallOptions,
  DeadLetter,
  QueueControl,
  Received,
  RetryLater,
} from "../notifications/queue-control.ts";
import { describeIssues } from "../zod.ts";

const SQS = { name: "sqs", targetPrefix: "AmazonSQS", jsonVersion: "1.0" } as const;

/** SQS takes at most 10 entries a batch call. */
const BATCH = 10;

/** SQS allows visibility timeouts of 0 to 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

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

/** The most a letter's reason, code or source id takes, in bytes (SQS counts bytes): one line, kept short. */
const ATTRIBUTE_MAX_BYTES = 1000;
const utf8 = new TextEncoder();

/** The longest start of `value` within `maxBytes` of UTF-8, never splitting a character. */
function utf8Prefix(value: string, maxBytes: number): string {
  if (value.length * 3 <= maxBytes) return value;
  const { read } = utf8.encodeInto(value, new Uint8Array(maxBytes));
  return value.slice(0, read);
}

const attribute = (value: string) => ({
  DataType: "String",
  StringValue: utf8Prefix(value, ATTRIBUTE_MAX_BYTES),
});

/** The dead-letter queue's largest message: SQS's largest, and its default. */
export const DEAD_LETTER_MAX_BYTES = 1_048_576;

/** What a letter's attributes take at most: three values of ATTRIBUTE_MAX_BYTES, a count, four names and types. */
export const DEAD_LETTER_ATTRIBUTES_MAX_BYTES = 4_096;

/**
 * The notification queue's largest record: the dead-letter queue's less the room its reason takes.
 * SQS counts a message's attributes in its size, so with both queues at SQS's default (1 MiB) a
 * record near it did not fit as a letter: it reached the dead-letter queue by the receive limit
 * alone, after 100 receives, without its reason.
 */
export const NOTIFICATION_MAX_BYTES = DEAD_LETTER_MAX_BYTES - DEAD_LETTER_ATTRIBUTES_MAX_BYTES;

export interface MessageToSend {
  MessageBody: string;
  MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
}

/** The letter a record becomes: its body as it was, its reason in attributes. */
export function deadLetterMessage(item: DeadLetter): MessageToSend {
  return {
    MessageBody: item.body,
    MessageAttributes: {
      [DEAD_LETTER_ATTRIBUTES.reason]: attribute(item.reason),
      [DEAD_LETTER_ATTRIBUTES.code]: attribute(item.code),
      [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: "Number", StringValue: String(item.receiveCount) },
      [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: attribute(item.id),
    },
  };
}

const SendMessageAnswer = z.object({ MessageId: z.string().check(z.minLength(1)) });
const BatchEntries = z.optional(z.array(z.object({ Id: z.string() })));
const BatchAnswer = z.object({ Successful: BatchEntries, Failed: BatchEntries });

/** The entries of `sent` (by their batch Id) that the answer does not name as done. */
function failedEntries<T>(sent: ReadonlyMap<string, T>, answer: unknown): T[] {
  const parsed = BatchAnswer.safeParse(answer);
  if (!parsed.success) return [...sent.values()];
  const failed = new Set((parsed.data.Failed ?? []).map((f) => f.Id));
  const done = new Set((parsed.data.Successful ?? []).map((s) => s.Id).filter((id) => !failed.has(id)));
  return [...sent].filter(([id]) => !done.has(id)).map(([, item]) => item);
}

const clampVisibility = (seconds: number) =>
  Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(seconds)));

export function sqsQueueControl(options: SqsQueueControlOptions, env: Env = process.env): QueueControl {
  const client = options.client ?? liteJsonClient(SQS, env);
  if (!client) {
    throw new Error("SQS queue control needs credentials and a region in the environment");
  }

  /**
   * One batch operation over `items`, 10 entries a call, the calls together within the caller's
   * time; the ids of the items not known to be done (a failed call fails its every entry).
   */
  const batched = async <T extends { id: string }>(
    operation: "ChangeMessageVisibilityBatch" | "DeleteMessageBatch",
    items: readonly T[],
    entry: (item: T) => Record<string, unknown>,
    { timeoutMs }: CallOptions = {},
  ): Promise<{ failed: string[] }> => {
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += BATCH) chunks.push(items.slice(i, i + BATCH));
    const failed = await Promise.all(
      chunks.map(async (chunk) => {
        const sent = new Map(chunk.map((item, n) => [String(n), item]));
        try {
          const out = await client.call(
            operation,
            { QueueUrl: options.queueUrl, Entries: [...sent].map(([Id, item]) => ({ Id, ...entry(item) })) },
            // Both set what a second call would set again: safe to retry after a timeout.
            { idempotent: true, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
          );
          return failedEntries(sent, out);
        } catch {
          return chunk;
        }
      }),
    );
    return { failed: failed.flat().map((item) => item.id) };
  };

  return {
    retryLater: (items: readonly RetryLater[], call?: CallOptions) =>
      batched(
        "ChangeMessageVisibilityBatch",
        items,
        (item) => ({
          ReceiptHandle: item.receiptHandle,
          VisibilityTimeout: clampVisibility(item.delaySeconds),
        }),
        call,
      ),
    hold: (items: readonly Received[], seconds: number, call?: CallOptions) =>
      batched(
        "ChangeMessageVisibilityBatch",
        items,
        (item) => ({ ReceiptHandle: item.receiptHandle, VisibilityTimeout: clampVisibility(seconds) }),
        call,
      ),
    acknowledge: (items: readonly Received[], call?: CallOptions) =>
      batched("DeleteMessageBatch", items, (item) => ({ ReceiptHandle: item.receiptHandle }), call),
    async deadLetter(item: DeadLetter, { timeoutMs }: CallOptions = {}) {
      const out = await client.call(
        "SendMessage",
        { QueueUrl: options.deadLetterQueueUrl, ...deadLetterMessage(item) },
        // Not idempotent (the default for SendMessage): a second copy would be a second letter.
        timeoutMs === undefined ? {} : { timeoutMs },
      );
      // Only a MessageId says the letter is on the queue: anything else leaves the record to SQS's redrive.
      const parsed = SendMessageAnswer.safeParse(out);
      if (!parsed.success) {
        throw new AwsResponseError(
          "sqs",
          "SendMessage",
          `without its MessageId (${describeIssues(parsed.error).join("; ")})`,
        );
      }
    },
  };
}
