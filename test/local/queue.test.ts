/**
 * The local queue's SQS semantics, with a handler written for each test: what the handler does
 * (acknowledge, fail, hang, back off, dead-letter) is what is varied, and the queue is what is
 * tested. Real timers throughout; every wait is bounded, and no duration is asserted.
 */
import { createHash } from "node:crypto";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { RETRY_POLICY } from "../../lib/notifications/backoff.ts";
import { localContext } from "../../local/product.ts";
import { createLocalQueue, type LocalQueue, type LocalQueueOptions } from "../../local/queue.ts";

type Handler = (event: SQSEvent, queue: LocalQueue) => Promise<SQSBatchResponse>;

const queues: LocalQueue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.stop(1000)));
});

/** A queue whose handler is `handler`, and every record it was handed, in order. */
function start(handler: Handler, options: Partial<LocalQueueOptions> = {}) {
  const received: SQSRecord[] = [];
  const queue: LocalQueue = createLocalQueue({
    context: () => localContext("send-notification"),
    handler: async (event) => {
      received.push(...event.Records);
      return handler(event, queue);
    },
    ...options,
  });
  queues.push(queue);
  return { queue, received };
}

/** Polls `condition` every 5 ms, at most `timeoutMs`; says what was awaited if it never holds. */
async function until(what: string, condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ok = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
const failAll = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
});
const receives = (records: SQSRecord[], id: string) => records.filter((r) => r.messageId === id);

describe("the local queue", () => {
  it("hands the handler SQS-shaped batches and deletes what it acknowledges", async () => {
    const { queue, received } = start(ok);
    const ids = ["a", "b", "c"].map((body) => queue.send(body));
    await queue.drain(5000);
    expect(received.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    const record = received.find((r) => r.body === "b");
    expect(record).toMatchObject({
      eventSource: "aws:sqs",
      md5OfBody: createHash("md5").update("b").digest("hex"),
      attributes: { ApproximateReceiveCount: "1", SenderId: "local" },
    });
    expect(record?.receiptHandle).toMatch(/^\S{20,}$/);
    expect(queue.stats()).toMatchObject({ sent: 3, visible: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
    expect(queue.config.maxReceiveCount).toBe(RETRY_POLICY.receiveLimit);
  });

  it("brings back a record the handler reported as failed once its visibility timeout ends", async () => {
    let calls = 0;
    const { queue, received } = start((event) => (++calls === 1 ? failAll(event) : ok()), {
      visibilityTimeoutMs: 30,
    });
    const id = queue.send("again");
    await queue.drain(5000);
    const [first, second] = receives(received, id);
    expect(first?.attributes.ApproximateReceiveCount).toBe("1");
    expect(second?.attributes.ApproximateReceiveCount).toBe("2");
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(queue.stats()).toMatchObject({ sent: 1, receives: 2, deadLettered: 0 });
  });

  it("brings back a record whose invocation outlives its visibility timeout, and ignores that invocation's late answer", async () => {
    let release: () => void = () => {};
    const hung = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const { queue, received } = start(
      async (event) => {
        const call = ++calls;
        if (call === 1) {
          await hung; // answers only after the record was received again…
          return ok(); // …so this acknowledgement carries a stale receipt handle and deletes nothing
        }
        if (call === 2) {
          release();
          await new Promise((r) => setTimeout(r, 10));
          return failAll(event);
        }
        return ok();
      },
      { visibilityTimeoutMs: 50, maxReceiveCount: 10 },
    );
    const id = queue.send("slow");
    await queue.drain(5000);
    expect(receives(received, id).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(["1", "2", "3"]);
    expect(queue.stats()).toMatchObject({ sent: 1, deadLettered: 0 });
  });

  it("treats a thrown invocation, or a failure naming a record not in the batch, as the whole batch failing", async () => {
    let calls = 0;
    const { queue, received } = start(
      async () => {
        calls++;
        if (calls === 1) throw new Error("handler crashed");
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: "not-in-this-batch" }] };
        return { batchItemFailures: [] };
      },
      { visibilityTimeoutMs: 20, batchSize: 10, batchWindowMs: 50 },
    );
    const ids = [queue.send("x"), queue.send("y")];
    await queue.drain(5000);
    for (const id of ids)
      expect(receives(received, id).map((r) => r.attributes.ApproximateReceiveCount)).toEqual([
        "1",
        "2",
        "3",
      ]);
    expect(queue.stats().sent).toBe(2);
  });

  it("retryLater sets a record's return (scaled by delayScale), and refuses a stale receipt handle", async () => {
    const handles: string[] = [];
    const answers: Array<{ failed: string[] }> = [];
    const { queue, received } = start(
      async (event, q) => {
        const record = event.Records[0] as SQSRecord;
        handles.push(record.receiptHandle);
        if (handles.length === 1) {
          // An hour's back-off (36 s at this scale): the record waits, delayed, until told otherwise.
          answers.push(
            await q.retryLater([
              { id: record.messageId, receiptHandle: record.receiptHandle, delaySeconds: 3600 },
            ]),
          );
          return failAll(event);
        }
        // Second receive: the first receive's handle no longer changes anything.
        answers.push(
          await q.retryLater([
            { id: record.messageId, receiptHandle: handles[0] as string, delaySeconds: 0 },
          ]),
        );
        return ok();
      },
      { visibilityTimeoutMs: 60_000, delayScale: 0.01 },
    );
    const id = queue.send("back off");
    await until("the record to be delayed", () => queue.stats().delayed === 1);
    const stats = queue.stats();
    expect(stats).toMatchObject({ visible: 0, inFlight: 0, retriedLater: 1 });
    expect(stats.soonestReturnAt).toBeGreaterThan(Date.now());
    expect(answers[0]).toEqual({ failed: [] });

    // Out of range, or no such record: refused, as SQS refuses them.
    expect(
      await queue.retryLater([{ id, receiptHandle: handles[0] as string, delaySeconds: 43_201 }]),
    ).toEqual({ failed: [id] });
    expect(await queue.retryLater([{ id: "nope", receiptHandle: "nope", delaySeconds: 1 }])).toEqual({
      failed: ["nope"],
    });
    // ChangeMessageVisibility to 0 with the current handle: it is received again now.
    expect(await queue.retryLater([{ id, receiptHandle: handles[0] as string, delaySeconds: 0 }])).toEqual({
      failed: [],
    });
    await queue.drain(5000);

    expect(answers[1]).toEqual({ failed: [id] });
    expect(receives(received, id).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(["1", "2"]);
    expect(queue.stats()).toMatchObject({ sent: 1, retriedLater: 2, refusedVisibilityChanges: 3 });
  });

  it("moves a record that reached the receive limit to the dead-letter list", async () => {
    const { queue, received } = start(failAll, { visibilityTimeoutMs: 10, maxReceiveCount: 3 });
    const id = queue.send('{"to":"x@example.com"}');
    await queue.drain(5000);
    expect(receives(received, id)).toHaveLength(3);
    expect(queue.deadLetters).toEqual([
      expect.objectContaining({
        messageId: id,
        body: '{"to":"x@example.com"}',
        receiveCount: 3,
        by: "receive-limit",
        code: "MaxReceiveCountExceeded",
        reason: expect.stringContaining("received 3 times"),
      }),
    ]);
    expect(queue.stats()).toMatchObject({ sent: 0, deadLettered: 1, visible: 0, delayed: 0 });
  });

  it("keeps the reason and code of a record the function dead-letters itself, and does not count it as sent", async () => {
    const { queue, received } = start(async (event, q) => {
      for (const r of event.Records) {
        await q.deadLetter({
          id: r.messageId,
          body: r.body,
          receiveCount: Number(r.attributes.ApproximateReceiveCount),
          reason: "Invalid notification: to: expected an email address",
          code: "InvalidNotification",
        });
      }
      return ok();
    });
    const id = queue.send("{}");
    await queue.drain(5000);
    expect(received).toHaveLength(1);
    expect(queue.deadLetters).toEqual([
      expect.objectContaining({
        messageId: id,
        body: "{}",
        receiveCount: 1,
        by: "function",
        code: "InvalidNotification",
        reason: "Invalid notification: to: expected an email address",
      }),
    ]);
    expect(queue.stats()).toMatchObject({ sent: 0, deadLettered: 1 });
    expect(queue.size()).toBe(0);
  });

  it("runs at most maxConcurrency batches at once, each a separate invocation", async () => {
    let active = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const requestIds = new Set<string>();
    const queue: LocalQueue = createLocalQueue({
      batchSize: 2,
      maxConcurrency: 3,
      context: () => localContext("send-notification"),
      handler: async (_event, context) => {
        requestIds.add(context.awsRequestId);
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => gates.push(r));
        active--;
        return { batchItemFailures: [] };
      },
    });
    queues.push(queue);
    for (let i = 0; i < 20; i++) queue.send(`m${i}`);
    await until("three batches in flight", () => active >= 3);
    // Give the queue every chance to start a fourth: it must not.
    await new Promise((r) => setTimeout(r, 100));
    expect(queue.stats()).toMatchObject({ batchesInFlight: 3, inFlight: 6, visible: 14 });
    for (let round = 0; round < 100 && queue.size() > 0; round++) {
      await until("a batch to release", () => gates.length > 0 || queue.size() === 0);
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setTimeout(r, 5));
    }
    await queue.drain(5000);
    expect(peak).toBe(3);
    expect(requestIds.size).toBe(10);
    expect(queue.stats()).toMatchObject({ sent: 20, invocations: 10 });
  });
});
