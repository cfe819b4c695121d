/**
 * An in-process stand-in for the notification queue: it invokes the send-notification handler
 * with real SQS-shaped batches, honours its partial batch failures by making the failed records
 * visible again after a delay, and moves a record that reached the receive limit to a local
 * dead-letter list, as the deployed queue's redrive policy does.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

export interface LocalQueueOptions {
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  context: () => Context;
  maxReceiveCount?: number;
  batchSize?: number;
  /** How long a failed record stays invisible before it is retried. */
  retryDelayMs?: number;
  /** Told about each record that moves to the dead-letter list. */
  onDeadLetter?: (letter: DeadLetter) => void;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  deadAt: string;
}

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  sentAt: number;
}

export interface LocalQueue {
  send(body: string): string;
  readonly deadLetters: DeadLetter[];
  /** Messages waiting or in flight. */
  size(): number;
  /** Resolves once nothing is waiting or in flight (bounded by `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export function createLocalQueue(options: LocalQueueOptions): LocalQueue {
  const { maxReceiveCount = 3, batchSize = 10, retryDelayMs = 1000 } = options;
  const waiting: Message[] = [];
  const deadLetters: DeadLetter[] = [];
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const toRecord = (m: Message): SQSRecord => ({
    messageId: m.messageId,
    receiptHandle: `local-${m.messageId}-${m.receiveCount}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: String(m.sentAt),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:local:000000000000:notifications",
    awsRegion: "local",
  });

  function schedule(delayMs = 0) {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void pump();
    }, delayMs);
  }

  async function pump() {
    if (stopped || inFlight > 0) return;
    const now = Date.now();
    const batch = waiting.filter((m) => m.visibleAt <= now).slice(0, batchSize);
    if (batch.length === 0) {
      const next = Math.min(...waiting.map((m) => m.visibleAt));
      if (Number.isFinite(next)) schedule(Math.max(next - now, 10));
      return;
    }
    for (const m of batch) {
      waiting.splice(waiting.indexOf(m), 1);
      m.receiveCount++;
    }
    inFlight = batch.length;
    let failed: Set<string>;
    try {
      const result = await options.handler({ Records: batch.map(toRecord) }, options.context());
      failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(batch.map((m) => m.messageId)); // the whole batch is retried, as SQS does
    }
    inFlight = 0;
    for (const m of batch) {
      if (!failed.has(m.messageId)) continue;
      if (m.receiveCount >= maxReceiveCount) {
        const letter = {
          messageId: m.messageId,
          body: m.body,
          receiveCount: m.receiveCount,
          deadAt: new Date().toISOString(),
        };
        deadLetters.unshift(letter);
        options.onDeadLetter?.(letter);
      } else {
        m.visibleAt = Date.now() + retryDelayMs;
        waiting.push(m);
      }
    }
    schedule();
  }

  return {
    send(body) {
      const messageId = crypto.randomUUID();
      waiting.push({ messageId, body, receiveCount: 0, visibleAt: Date.now(), sentAt: Date.now() });
      schedule(20); // a short batching window
      return messageId;
    },
    deadLetters,
    size: () => waiting.length + inFlight,
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (waiting.length + inFlight > 0) {
        if (Date.now() > deadline) throw new Error(`queue not drained within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
