/**
 * An in-process stand-in for the notification queue and its event source mapping (one file: the
 * state machine over the queued records; the reason is at the end of this comment), with the SQS
 * semantics send-notification depends on:
 *
 * - Each receive makes a record invisible for the visibility timeout, counts a receive
 *   (ApproximateReceiveCount) and issues a new receipt handle; an earlier receive's handle no
 *   longer changes anything (a stale handle's visibility change is refused, as SQS refuses it).
 * - A record the handler acknowledges (absent from batchItemFailures) is deleted. One it reports
 *   as failed, or every record of a batch whose invocation threw, stays invisible until its
 *   visibility timeout ends, and is then received again.
 * - QueueControl.retryLater is ChangeMessageVisibility: the record returns after `delaySeconds`
 *   instead (multiplied by `delayScale`, so a local demo can compress an hour of back-off).
 * - A visible record that was already received `maxReceiveCount` times moves to the dead-letter
 *   list (the redrive policy), and QueueControl.deadLetter puts a record there at once with the
 *   function's reason and code.
 * - Batches of up to `batchSize` records, gathered for `batchWindowMs` after a send, and at most
 *   `maxConcurrency` invocations at once, each a separate call of the same handler.
 *
 * One file over 250 lines because what is left is one state machine over the queued records
 * (receive, acknowledge, visibility change, redrive, the wake-up timer), each step reading the
 * others' state. Its parts live beside it: the record's shape and receipt handles in
 * queue-record.ts, the dead-letter list in dead-letter-list.ts, the options in queue-options.ts.
 */
import type { SQSRecord } from "aws-lambda";
import type {
  QueueControl,
  DeadLetter as QueueDeadLetter,
  Received,
  RetryLater,
} from "../lib/notifications/queue-control.ts";
import { addDeadLetter, type DeadLetterEntry, takeDeadLetters } from "./dead-letter-list.ts";
import { type LocalQueueConfig, type LocalQueueOptions, queueConfig } from "./queue-options.ts";
import { newMessage, newReceiptHandle, type QueuedMessage, toSqsRecord } from "./queue-record.ts";

export type { DeadLetterEntry } from "./dead-letter-list.ts";
export type { LocalQueueConfig, LocalQueueOptions } from "./queue-options.ts";

export interface LocalQueueStats {
  /** Visible: waiting for a batch. */
  visible: number;
  /** Invisible and not being handled: back in the queue after a failure, waiting out a back-off or the visibility timeout. */
  delayed: number;
  /** When the soonest delayed record becomes visible again (epoch ms), or null. */
  soonestReturnAt: number | null;
  /** Being handled by an invocation now. */
  inFlight: number;
  /** Invocations running now. */
  batchesInFlight: number;
  /** Records acknowledged by the function (deleted), other than those it dead-lettered itself. */
  sent: number;
  /** Records moved to the dead-letter list so far (the newest 5000 are kept). */
  deadLettered: number;
  /** Letters the dead-letter list holds now (after redrives and purges). */
  deadLetterDepth: number;
  /** Receives so far (a record received three times counts three). */
  receives: number;
  /** Invocations so far. */
  invocations: number;
  /** Visibility changes accepted (retryLater), and those refused (stale handle, record not in flight). */
  retriedLater: number;
  refusedVisibilityChanges: number;
}

export interface LocalQueue extends QueueControl {
  /** SendMessage: returns the message id. */
  send(body: string): string;
  /** Newest first, at most 5000. */
  readonly deadLetters: readonly DeadLetterEntry[];
  readonly config: Readonly<LocalQueueConfig>;
  /**
   * A redrive: the named dead letters (every one when `ids` is undefined) go back on the queue as
   * new messages and leave the list. Each redriven id with its new message id, and the ids not on the list.
   */
  redriveDeadLetters(ids?: readonly string[]): {
    redriven: Array<{ messageId: string; newMessageId: string }>;
    missing: string[];
  };
  /** Empties the dead-letter list: how many letters it held. */
  purgeDeadLetters(): number;
  stats(): LocalQueueStats;
  /** Records not yet deleted or dead-lettered. */
  size(): number;
  /** Resolves once every record is deleted or dead-lettered and no invocation runs (bounded by `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
  /** No new invocations; resolves when those running have ended (at most `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

interface Batch {
  records: Array<{ messageId: string; receiptHandle: string }>;
}

/** SQS allows a visibility timeout of 0 to 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

export function createLocalQueue(options: LocalQueueOptions): LocalQueue {
  const config = queueConfig(options);

  /** Every record not yet deleted or dead-lettered, in the order sent. */
  const messages = new Map<string, QueuedMessage>();
  const deadLetters: DeadLetterEntry[] = [];
  /** Records the function dead-lettered itself: their acknowledgement is not a send. */
  const deadLetteredByFunction = new Set<string>();
  const running = new Set<Promise<void>>();
  const counters = {
    sent: 0,
    deadLettered: 0,
    receives: 0,
    invocations: 0,
    retriedLater: 0,
    refusedVisibilityChanges: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Number.POSITIVE_INFINITY;
  let stopped = false;

  /** Runs pump at `at` (epoch ms) unless it is already due to run sooner. */
  function wakeAt(at: number) {
    if (stopped || at >= timerDue) return;
    clearTimeout(timer);
    timerDue = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerDue = Number.POSITIVE_INFINITY;
        pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  function moveToDeadLetters(letter: DeadLetterEntry) {
    counters.deadLettered++;
    addDeadLetter(deadLetters, letter);
    options.onDeadLetter?.(letter);
  }

  /** The redrive policy, then as many batches as the concurrency allows. */
  function pump() {
    if (stopped) return;
    const now = Date.now();
    for (const m of messages.values()) {
      if (m.visibleAt <= now && m.receiveCount >= config.maxReceiveCount) {
        messages.delete(m.messageId);
        moveToDeadLetters({
          messageId: m.messageId,
          body: m.body,
          receiveCount: m.receiveCount,
          reason: `received ${m.receiveCount} times without being acknowledged (maxReceiveCount ${config.maxReceiveCount})`,
          code: "MaxReceiveCountExceeded",
          by: "receive-limit",
          deadAt: new Date(now).toISOString(),
        });
      }
    }
    while (running.size < config.maxConcurrency) {
      const batch: QueuedMessage[] = [];
      for (const m of messages.values()) {
        if (m.visibleAt <= now) batch.push(m);
        if (batch.length === config.batchSize) break;
      }
      if (batch.length === 0) break;
      const records = batch.map((m) => {
        m.receiveCount++;
        m.firstReceiveAt ??= now;
        m.visibleAt = now + config.visibilityTimeoutMs;
        m.handling = true;
        m.receiptHandle = newReceiptHandle(m);
        return toSqsRecord(m, m.receiptHandle);
      });
      counters.receives += records.length;
      invoke(
        { records: records.map(({ messageId, receiptHandle }) => ({ messageId, receiptHandle })) },
        records,
      );
    }
    let next = Number.POSITIVE_INFINITY;
    for (const m of messages.values()) if (m.visibleAt > now) next = Math.min(next, m.visibleAt);
    if (Number.isFinite(next)) wakeAt(next + 1);
  }

  function invoke(batch: Batch, records: SQSRecord[]) {
    counters.invocations++;
    const ids = new Set(batch.records.map((r) => r.messageId));
    const run = (async () => {
      let failed: Set<string>;
      try {
        const result = await options.handler({ Records: records }, options.context());
        const reported = (result?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
        // An identifier that is not in the batch fails the whole batch, as the event source mapping does.
        failed = reported.every((id) => ids.has(id)) ? new Set(reported) : ids;
      } catch (error) {
        options.onInvocationError?.(error);
        failed = ids;
      }
      for (const { messageId, receiptHandle } of batch.records) {
        const m = messages.get(messageId);
        // Gone (dead-lettered), or received again since: this receive's outcome no longer counts.
        if (!m || m.receiptHandle !== receiptHandle) continue;
        m.handling = false;
        if (failed.has(messageId)) continue; // invisible until its visibility timeout or retryLater delay ends
        messages.delete(messageId);
        if (!deadLetteredByFunction.delete(messageId)) counters.sent++;
      }
    })();
    running.add(run);
    void run.finally(() => {
      running.delete(run);
      pump();
    });
  }

  const inFlight = (m: QueuedMessage | undefined, receiptHandle: string, now: number): m is QueuedMessage =>
    m !== undefined && m.receiptHandle === receiptHandle && m.visibleAt > now;

  /** ChangeMessageVisibility of records in flight; a stale handle or a delay out of range is refused. */
  function changeVisibility(items: readonly RetryLater[], scale: number, countRetry: boolean) {
    const now = Date.now();
    const failed: string[] = [];
    for (const item of items) {
      const m = messages.get(item.id);
      const delay = item.delaySeconds;
      if (
        !inFlight(m, item.receiptHandle, now) ||
        !Number.isFinite(delay) ||
        delay < 0 ||
        delay > MAX_VISIBILITY_SECONDS
      ) {
        counters.refusedVisibilityChanges++;
        failed.push(item.id);
        continue;
      }
      m.visibleAt = now + delay * 1000 * scale;
      if (countRetry) counters.retriedLater++;
      wakeAt(m.visibleAt + 1);
    }
    return { failed };
  }

  const queue: LocalQueue = {
    config,
    deadLetters,
    send(body) {
      const now = Date.now();
      const m = newMessage(body, now);
      messages.set(m.messageId, m);
      wakeAt(now + config.batchWindowMs);
      return m.messageId;
    },

    async retryLater(items: readonly RetryLater[]) {
      return changeVisibility(items, config.delayScale, true);
    },

    async hold(items: readonly Received[], seconds: number) {
      return changeVisibility(
        items.map((i) => ({ ...i, delaySeconds: seconds })),
        1,
        false,
      );
    },

    async acknowledge(items: readonly Received[]) {
      const now = Date.now();
      const failed: string[] = [];
      for (const item of items) {
        const m = messages.get(item.id);
        if (!inFlight(m, item.receiptHandle, now)) {
          failed.push(item.id);
          continue;
        }
        // Deleted now; the batch's end finds it gone and counts nothing twice.
        messages.delete(item.id);
        counters.sent++;
      }
      return { failed };
    },

    async deadLetter(item: QueueDeadLetter) {
      if (messages.has(item.id)) deadLetteredByFunction.add(item.id);
      moveToDeadLetters({
        messageId: item.id,
        body: item.body,
        receiveCount: item.receiveCount,
        reason: item.reason,
        code: item.code,
        by: "function",
        deadAt: new Date().toISOString(),
      });
    },

    redriveDeadLetters(ids) {
      const wanted = ids === undefined ? undefined : new Set(ids);
      const taken = takeDeadLetters(deadLetters, wanted);
      const redriven = taken.map((l) => ({ messageId: l.messageId, newMessageId: queue.send(l.body) }));
      const missing = [...(wanted ?? [])].filter((id) => !taken.some((l) => l.messageId === id));
      return { redriven, missing };
    },

    purgeDeadLetters() {
      return takeDeadLetters(deadLetters).length;
    },

    stats() {
      const now = Date.now();
      const s = { visible: 0, delayed: 0, inFlight: 0, soonestReturnAt: null as number | null };
      for (const m of messages.values()) {
        if (m.visibleAt <= now) s.visible++;
        else if (m.handling) s.inFlight++;
        else {
          s.delayed++;
          s.soonestReturnAt = Math.min(s.soonestReturnAt ?? m.visibleAt, m.visibleAt);
        }
      }
      // deadLettered counts every letter so far; deadLetterDepth is what the list holds now.
      return { ...s, ...counters, deadLetterDepth: deadLetters.length, batchesInFlight: running.size };
    },

    size: () => messages.size,

    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.size > 0 || running.size > 0) {
        if (Date.now() > deadline) {
          throw new Error(
            `queue not drained within ${timeoutMs} ms: ${JSON.stringify(queue.stats())} (config ${JSON.stringify(config)})`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },

    async stop(timeoutMs = 5_000) {
      stopped = true;
      clearTimeout(timer);
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((r) => {
          bound = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(bound);
    },
  };
  return queue;
}
