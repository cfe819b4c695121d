/**
 * Reading the dead-letter queue without taking it from anyone: every record received with a
 * short visibility timeout (so one listing sees each once), then made visible again. Each says
 * why it failed: the attributes send-notification puts on records it dead-letters itself
 * (DEAD_LETTER_ATTRIBUTES), or none when the queue's redrive policy moved it (the receive limit).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { DEAD_LETTER_ATTRIBUTES } from "../lib/aws-sqs/index.ts";
import { parseNotificationBody } from "../lib/notifications/index.ts";
import { awsCall } from "./aws.ts";
import type { CliContext } from "./context.ts";

export const RECEIVE_LIMIT_REASON =
  "reached the receive limit (the queue's maxReceiveCount) without being sent";

export interface DeadLetter {
  messageId: string;
  /** The notification queue's message id (the same id when the redrive policy moved it). */
  sourceMessageId: string;
  by: "function" | "receive-limit";
  reason: string;
  code: string;
  receiveCount?: number;
  sentAt?: string;
  to?: string;
  subject?: string;
  body: string;
  /** For deleting it (redrive, purge); not shown. */
  receiptHandle?: string;
}

const attr = (m: Message, name: string) => m.MessageAttributes?.[name]?.StringValue;

export function toDeadLetter(m: Message): DeadLetter {
  const body = m.Body ?? "";
  const parsed = parseNotificationBody(body);
  const reason = attr(m, DEAD_LETTER_ATTRIBUTES.reason);
  const receiveCount = attr(m, DEAD_LETTER_ATTRIBUTES.receiveCount);
  const sent = m.Attributes?.SentTimestamp;
  return {
    messageId: m.MessageId ?? "",
    sourceMessageId: attr(m, DEAD_LETTER_ATTRIBUTES.sourceMessageId) ?? m.MessageId ?? "",
    by: reason === undefined ? "receive-limit" : "function",
    reason: reason ?? RECEIVE_LIMIT_REASON,
    code: attr(m, DEAD_LETTER_ATTRIBUTES.code) ?? "MaxReceiveCountExceeded",
    ...(receiveCount !== undefined ? { receiveCount: Number(receiveCount) } : {}),
    ...(sent ? { sentAt: new Date(Number(sent)).toISOString() } : {}),
    ...(parsed.ok ? { to: parsed.notification.to, subject: parsed.notification.subject } : {}),
    body,
    ...(m.ReceiptHandle ? { receiptHandle: m.ReceiptHandle } : {}),
  };
}

/**
 * Up to `max` dead letters. The records stay invisible for `holdSeconds` (so a redrive can delete
 * them), then `release` makes the ones not deleted visible again.
 */
export async function receiveDeadLetters(
  ctx: CliContext,
  queueUrl: string,
  { max = 1000, holdSeconds = 30 }: { max?: number; holdSeconds?: number } = {},
): Promise<{ letters: DeadLetter[]; release(keep?: ReadonlySet<string>): Promise<void> }> {
  const sqs = ctx.aws().sqs;
  const letters: DeadLetter[] = [];
  const seen = new Set<string>();
  while (letters.length < max) {
    const out = await awsCall(`read the dead-letter queue ${queueUrl}`, () =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, max - letters.length),
          VisibilityTimeout: holdSeconds,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
        }),
      ),
    );
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.add(m.MessageId as string);
      letters.push(toDeadLetter(m));
    }
  }
  return {
    letters,
    async release(gone = new Set()) {
      const back = letters.filter((l) => l.receiptHandle && !gone.has(l.messageId));
      for (let i = 0; i < back.length; i += 10) {
        const chunk = back.slice(i, i + 10);
        await awsCall(`make dead letters visible again in ${queueUrl}`, () =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((l, n) => ({
                Id: String(n),
                ReceiptHandle: l.receiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          ),
        );
      }
    },
  };
}
