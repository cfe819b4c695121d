/**
 * The SQS queue control against a real SQS API (moto_server's, as the stack makes the queues):
 * its answers pass the checks the control makes of them, and a refused entry is reported.
 */

import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_ATTRIBUTES, sqsQueueControl } from "../../../lib/aws-sqs/index.ts";
import { sqsFixture } from "../../helpers/sqs.ts";

async function received(fixture: Awaited<ReturnType<typeof sqsFixture>>, n: number) {
  for (let i = 0; i < n; i++) {
    await fixture.client.send(
      new SendMessageCommand({ QueueUrl: fixture.queueUrl, MessageBody: `{"n":${i}}` }),
    );
  }
  const messages = await fixture.receive(fixture.queueUrl, 10);
  expect(messages).toHaveLength(n);
  return messages.map((m) => ({ id: m.MessageId as string, receiptHandle: m.ReceiptHandle as string }));
}

/** The control as send-notification makes it: its own lite client, from the environment. */
const control = ({ queueUrl, deadLetterQueueUrl, env }: Awaited<ReturnType<typeof sqsFixture>>) =>
  sqsQueueControl({ queueUrl, deadLetterQueueUrl }, env);

describe("SQS queue control (moto_server)", () => {
  it("dead-letters a record with its reason", async () => {
    const fixture = await sqsFixture();
    const queue = control(fixture);
    await queue.deadLetter(
      { id: "m-1", body: '{"to":"x"}', receiveCount: 2, reason: "refused", code: "InvalidNotification" },
      { timeoutMs: 5_000 },
    );
    const [letter] = await fixture.receive(fixture.deadLetterQueueUrl);
    expect(letter?.Body).toBe('{"to":"x"}');
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.code]?.StringValue).toBe("InvalidNotification");
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.sourceMessageId]?.StringValue).toBe("m-1");
  });

  it("holds, backs off and acknowledges real receipts, and reports a receipt it refuses", async () => {
    const fixture = await sqsFixture({ visibilityTimeoutSeconds: 1 });
    const queue = control(fixture);
    const [a, b, c] = await received(fixture, 3);
    if (!a || !b || !c) throw new Error("not received");

    expect(await queue.hold([a, b, c], 60, { timeoutMs: 5_000 })).toEqual({ failed: [] });
    expect(await queue.retryLater([{ ...c, delaySeconds: 120 }])).toEqual({ failed: [] });
    expect(await queue.acknowledge([a, { id: "bogus", receiptHandle: "not-a-receipt-handle" }])).toEqual({
      failed: ["bogus"],
    });
    // Held past the queue's 1 s visibility timeout, and `a` deleted: nothing comes back.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await fixture.receive(fixture.queueUrl)).toEqual([]);
  });
});
