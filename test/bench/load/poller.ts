/**
 * (Over 250 lines: the slots' receiving, invoking and deleting share one state, the queue's
 * one-at-a-time lock and the receive history, and read best together; the event's records are
 * lambda-event.ts's.)
 *
 * Lambda's SQS event source, as the load test needs it: up to `maxConcurrency` invocations at
 * once (the event source's maximumConcurrency), each slot gathering a batch with ReceiveMessage
 * (long polls; up to `batchSize` records, or what arrived within the batching window counted from
 * the first record), building the SQS event Lambda builds (receipt handles, system attributes,
 * message attributes), invoking, then deleting the records that succeeded (DeleteMessageBatch).
 * As Lambda's pollers run apart from its invocations, each slot gathers its next batch while the
 * current one is being invoked (one batch ahead), so a slow ReceiveMessage (moto's grows with the
 * queue's length) does not hold the containers up.
 *
 * The poller's own calls to the queue are made one at a time, with long polls of a second rather
 * than Lambda's 20: moto's SQS is not safe under concurrent calls on one queue (two concurrent
 * ReceiveMessage calls were seen handing one message to both, and two concurrent deletes rebuild
 * its message list from the same copy, so one can bring back a message the other deleted).
 * Records in batchItemFailures are left alone: their visibility is whatever the function made it
 * (ChangeMessageVisibility back-offs are kept, never reset). As Lambda does, a response naming an
 * unknown or empty identifier, an error or a timeout fails the whole batch.
 *
 * Without maximumConcurrency (`scaling`), the slots start as Lambda scales an SQS event source:
 * `initial` at once, then `perMinute` more a minute. With many slots, long polls of a second
 * under the one-at-a-time rule would hold each slot's receives up for the others' seconds:
 * `longPollSeconds: 0` polls short, and a slot that found nothing waits 50 ms × slots (outside
 * the rule) before it asks again.
 *
 * Every receive of every message is kept (when, receive count, which slot and invocation, what
 * became of it), so a duplicate delivery can be explained by its message id.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { InvocationOutcome, InvocationResult } from "./containers.ts";
import { failedIds, toLambdaRecord } from "./lambda-event.ts";

export type ReceiveOutcome =
  /** Succeeded and deleted. */
  | "deleted"
  /** Named in batchItemFailures: left for SQS to deliver again. */
  | "reported-failed"
  /** The invocation failed as a whole (error, timeout, crash, or a response Lambda rejects). */
  | "invocation-failed"
  /** Succeeded, but the delete failed: SQS will deliver it again. */
  | "delete-failed"
  /** Received, then the poller stopped before invoking. */
  | "not-invoked"
  /** Its invocation was under way when the scenario ended and its container was stopped. */
  | "stopped";

export interface ReceiveEntry {
  /** When the poller got it (epoch ms). */
  at: number;
  /** ApproximateReceiveCount of this receive. */
  receiveCount: number;
  slot: number;
  /** Index into `invocations`. */
  invocation?: number;
  outcome?: ReceiveOutcome;
  /** When its invocation ended (epoch ms). */
  endedAt?: number;
}

export interface InvocationEntry {
  slot: number;
  startedAt: number;
  endedAt: number;
  records: number;
  /** Records SQS keeps (reported failed, or all of them when the invocation failed). */
  failed: number;
  /** `stopped`: under way when the scenario ended (its container was stopped, not crashed). */
  outcome: InvocationOutcome | "rejected-response" | "stopped";
  cold: boolean;
  error?: string;
}

export interface PollerHistory {
  /** SQS message id → each receive, in order. */
  receives: Map<string, ReceiveEntry[]>;
  invocations: InvocationEntry[];
  receiveCalls: number;
  /** How long each ReceiveMessage that returned messages took, ms (the SQS server's pace). */
  receiveMs: number[];
  receiveErrors: number;
  deleteFailures: number;
}

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  batchingWindowSeconds: number;
  maxConcurrency: number;
  /** Slots start as Lambda scales: `initial` at once, then `perMinute` more a minute. Default: all at once. */
  scaling?: { initial: number; perMinute: number };
  /** ReceiveMessage's wait. Default 1 (see LONG_POLL_SECONDS); 0: short polls. */
  longPollSeconds?: number;
  /** Runs one invocation in the slot's container. */
  invoke(slot: number, event: SQSEvent): Promise<InvocationResult>;
}

export interface Poller {
  history: PollerHistory;
  /** Records received and not yet settled (in a batch being gathered, waiting, or invoked). */
  held(): number;
  /** Stops receiving at once (pending long polls are aborted); invocations under way finish. */
  halt(): void;
  /** Resolves when every slot has ended (after halt). */
  idle(): Promise<void>;
}

/** A second, not Lambda's 20: the poller's calls are serialised, and a long poll holds the others. */
const LONG_POLL_SECONDS = 1;
/** With short polls, what a slot that found nothing waits, per slot polling. */
const SHORT_POLL_SPACING_MS = 50;
const SYSTEM_ATTRIBUTES = [
  "ApproximateReceiveCount",
  "SentTimestamp",
  "ApproximateFirstReceiveTimestamp",
  "SenderId",
] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function startPoller(options: PollerOptions): Poller {
  const history: PollerHistory = {
    receives: new Map(),
    invocations: [],
    receiveCalls: 0,
    receiveMs: [],
    receiveErrors: 0,
    deleteFailures: 0,
  };
  const abort = new AbortController();
  let halted = false;
  let held = 0;
  /** One call to the queue at a time (see the file's comment). */
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(call: () => Promise<T>): Promise<T> => {
    const mine = lock.then(call, call);
    lock = mine.catch(() => {});
    return mine;
  };

  async function receive(slot: number, max: number, waitSeconds: number): Promise<Message[]> {
    history.receiveCalls++;
    try {
      let started = 0;
      const out = await exclusive(() => {
        started = performance.now();
        return options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: halted ? 0 : waitSeconds,
            MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
      });
      const messages = out.Messages ?? [];
      if (messages.length) history.receiveMs.push(performance.now() - started);
      held += messages.length;
      const at = Date.now();
      for (const m of messages) {
        const id = m.MessageId ?? "";
        const list = history.receives.get(id) ?? [];
        list.push({ at, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1), slot });
        history.receives.set(id, list);
      }
      return messages;
    } catch {
      // Aborted by halt, or an error moto gave: counted, and the slot polls again shortly.
      if (halted) return [];
      history.receiveErrors++;
      await sleep(500);
      return [];
    }
  }

  const longPoll = options.longPollSeconds ?? LONG_POLL_SECONDS;
  /** A halt ends every wait of the slots. */
  const halting = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve()));
  const pause = (ms: number) => Promise.race([sleep(ms), halting]);

  /** One batch: up to batchSize, or what arrived within the window from the first record. */
  async function gather(slot: number): Promise<Message[]> {
    const batch: Message[] = [];
    const windowMs = options.batchingWindowSeconds * 1000;
    let windowEnd: number | undefined;
    while (!halted && batch.length < options.batchSize) {
      let wait = longPoll;
      if (windowEnd !== undefined) {
        const remaining = windowEnd - Date.now();
        if (remaining <= 0) break;
        wait = Math.min(longPoll, Math.floor(remaining / 1000));
      }
      const got = await receive(slot, Math.min(10, options.batchSize - batch.length), wait);
      batch.push(...got);
      if (batch.length === 0 && wait === 0) await pause(SHORT_POLL_SPACING_MS * options.maxConcurrency);
      if (batch.length > 0) {
        if (windowMs === 0) break;
        windowEnd ??= Date.now() + windowMs;
        // A short poll that found nothing: wait a little rather than spin until the window ends.
        if (got.length === 0 && wait === 0) await sleep(Math.min(200, Math.max(0, windowEnd - Date.now())));
      }
    }
    return batch;
  }

  async function deleteSucceeded(records: readonly SQSRecord[]): Promise<Set<string>> {
    const notDeleted = new Set<string>();
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      try {
        const out = await exclusive(() =>
          options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: chunk.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
            }),
          ),
        );
        for (const f of out.Failed ?? []) {
          const r = chunk[Number(f.Id)];
          if (r) notDeleted.add(r.messageId);
        }
      } catch {
        for (const r of chunk) notDeleted.add(r.messageId);
      }
    }
    history.deleteFailures += notDeleted.size;
    return notDeleted;
  }

  function settle(
    ids: readonly string[],
    invocation: number | undefined,
    outcomeOf: (id: string) => ReceiveOutcome,
  ) {
    const endedAt = Date.now();
    held -= ids.length;
    for (const id of ids) {
      const entry = history.receives.get(id)?.findLast((e) => e.outcome === undefined);
      if (!entry) continue;
      entry.outcome = outcomeOf(id);
      entry.endedAt = endedAt;
      if (invocation !== undefined) entry.invocation = invocation;
    }
  }

  async function slotLoop(slot: number): Promise<void> {
    const { scaling } = options;
    if (scaling && slot >= scaling.initial) {
      await pause(((slot - scaling.initial + 1) * 60_000) / scaling.perMinute);
    }
    let next: Promise<Message[]> | undefined;
    while (!halted) {
      const messages = await (next ?? gather(slot));
      next = undefined;
      if (messages.length === 0) continue;
      const records = messages.map((m) => toLambdaRecord(m, options.queueArn, options.region));
      const ids = records.map((r) => r.messageId);
      if (halted) {
        settle(ids, undefined, () => "not-invoked");
        break;
      }
      // The next batch is gathered while this one is invoked.
      next = gather(slot);
      const startedAt = Date.now();
      const result = await options.invoke(slot, { Records: records });
      const { failed, rejected } = failedIds(records, result);
      const stopped = halted && result.outcome === "crash";
      const invocation = history.invocations.length;
      history.invocations.push({
        slot,
        startedAt,
        endedAt: Date.now(),
        records: records.length,
        failed: failed.size,
        outcome: stopped ? "stopped" : rejected ? "rejected-response" : result.outcome,
        cold: result.cold,
        ...(result.error ? { error: result.error } : {}),
      });
      const wholeBatch = result.outcome !== "ok" || rejected;
      const notDeleted = await deleteSucceeded(records.filter((r) => !failed.has(r.messageId)));
      settle(ids, invocation, (id) =>
        stopped
          ? "stopped"
          : wholeBatch
            ? "invocation-failed"
            : failed.has(id)
              ? "reported-failed"
              : notDeleted.has(id)
                ? "delete-failed"
                : "deleted",
      );
    }
    // A batch gathered ahead when the poller halted is never invoked.
    const left = next ? await next : [];
    if (left.length)
      settle(
        left.map((m) => m.MessageId ?? ""),
        undefined,
        () => "not-invoked",
      );
  }

  const loops = Array.from({ length: options.maxConcurrency }, (_, slot) => slotLoop(slot));
  const all = Promise.all(loops).then(() => {});

  return {
    history,
    held: () => held,
    halt() {
      halted = true;
      abort.abort();
    },
    idle: () => all,
  };
}
