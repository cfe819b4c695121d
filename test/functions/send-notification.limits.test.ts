/**
 * send-notification under a provider's limits, against real servers: moto_server's SQS (the
 * notification queue and its dead-letter queue, as the stack makes them) and an SMTP server that
 * answers as Amazon SES does above its rate (454 Throttling failure). docs/delivery.md says what
 * is expected here.
 */
import { DeleteMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createHandler } from "../../functions/send-notification.ts";
import { dynamoConnectionLeases } from "../../lib/aws-dynamodb/index.ts";
import { DEAD_LETTER_ATTRIBUTES } from "../../lib/aws-sqs/index.ts";
import {
  CONNECTION_LIMIT_MESSAGE,
  LEARNED_RATE_MESSAGE,
  RETRY_POLICY,
  SETTINGS_REFUSAL_FIELD,
} from "../../lib/notifications/index.ts";
import { dynamoClient, sendScheduleTable } from "../helpers/dynamodb.ts";
import { captureLogs, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { perTest } from "../helpers/per-test.ts";
import { startSilentServer } from "../helpers/smtp-server.ts";
import { batchOf, sqsFixture } from "../helpers/sqs.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const { smtpServer } = perTest();

async function deploy(port: number, env: Record<string, string>, settings: Record<string, string> = {}) {
  const ssm = ssmFixture();
  await ssm.putSettings({
    SMTPServer: "127.0.0.1",
    SMTPPort: String(port),
    FeedbackEmail: "noreply@chat.example",
    ...settings,
  });
  const logs = captureLogs();
  const handler = createHandler({
    env: { SETTINGS_PATH: ssm.root, ...env },
    store: ssm.store(),
    write: logs.write,
  });
  return { handler, logs };
}

const note = (i: number) => ({ to: `user${i}@example.com`, subject: `Mention ${i}`, text: "Hi" });

describe("send-notification under a provider's limits", () => {
  it("stops starting sends at a throttle and sends every unsent record back after its own back-off", async () => {
    const smtp = await smtpServer({ limits: { ratePerSecond: 0.2, burst: 1 } });
    // A queue visibility timeout of 1 s: a record left to it would be back at once.
    const queue = await sqsFixture({ visibilityTimeoutSeconds: 1 });
    // A rate configured above what the provider allows (with none, the rate is learned and the
    // batch goes on at it: below).
    const { handler, logs } = await deploy(smtp.port, { ...queue.env, SEND_RATE_PER_SECOND: "10" });

    const event = await batchOf(queue, [0, 1, 2, 3, 4].map(note));
    const result = await handler(event, lambdaContext());

    expect(smtp.messages).toHaveLength(1); // the one token the provider had
    expect(result.batchItemFailures).toHaveLength(4);
    expect(smtp.limits?.stats.throttledMessages).toBe(1); // no send started after the throttle
    const throttled = logs.entries().filter((e) => /throttled by the provider/.test(String(e.message)));
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ error: { responseCode: 454, throttle: true } });
    const notAttempted = logs.entries().filter((e) => /not attempted/.test(String(e.message)));
    expect(notAttempted).toHaveLength(3);
    const [low] = RETRY_POLICY.jitter;
    for (const entry of [...throttled, ...notAttempted]) {
      expect(entry.retryInSeconds).toBeGreaterThanOrEqual(Math.floor(RETRY_POLICY.baseSeconds * low));
    }
    // What Lambda's event source does with the answer: delete what succeeded, leave the failures.
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = event.Records.filter((r) => !failed.has(r.messageId));
    await queue.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    // Past the queue's own visibility timeout, none is back: each waits out its back-off.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await queue.receive(queue.queueUrl)).toEqual([]);
    expect(await queue.receive(queue.deadLetterQueueUrl)).toEqual([]);
  });

  it("puts a record that can never succeed on the dead-letter queue at once, with its reason, and acknowledges it", async () => {
    const smtp = await smtpServer({
      rcptReplies: { "gone@example.com": { code: 550, message: "5.1.1 No such user" } },
    });
    const queue = await sqsFixture({ visibilityTimeoutSeconds: 1 });
    const { handler } = await deploy(smtp.port, queue.env);

    const event = await batchOf(queue, [
      note(1),
      { to: "not-an-address", text: "x" },
      { ...note(2), to: "gone@example.com" },
    ]);
    const result = await handler(event, lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(smtp.messages).toHaveLength(1);
    const dead = await queue.receive(queue.deadLetterQueueUrl);
    const byCode = Object.fromEntries(
      dead.map((m) => [m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.code]?.StringValue, m]),
    );
    expect(Object.keys(byCode).sort()).toEqual(["EENVELOPE", "InvalidNotification"]);
    expect(
      byCode.InvalidNotification?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue,
    ).toMatch(/^Invalid notification: to: must be an email address/);
    expect(byCode.EENVELOPE?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toMatch(
      /rejected the recipient.*550/,
    );
    expect(byCode.EENVELOPE?.Body).toContain("gone@example.com");
  });

  it.each([
    [
      "554 Relay access denied at RCPT (no enhanced code)",
      { rcpt: { code: 554, message: "Relay access denied" } },
    ],
    [
      "Microsoft's 550 5.7.60 SendAsDenied at DATA",
      {
        data: { code: 550, message: "5.7.60 SMTP; Client does not have permissions to send as this sender" },
      },
    ],
  ])(
    "retries a refusal the settings caused (%s): none dead-lettered, each an error line the alarm counts",
    async (_what, reply) => {
      const smtp = await smtpServer({
        ...("rcpt" in reply
          ? { rcptReplies: { "user1@example.com": reply.rcpt, "user2@example.com": reply.rcpt } }
          : { dataReply: reply.data }),
      });
      const queue = await sqsFixture({ visibilityTimeoutSeconds: 1 });
      const { handler, logs } = await deploy(smtp.port, queue.env);

      const event = await batchOf(queue, [note(1), note(2)]);
      const result = await handler(event, lambdaContext());

      expect(result.batchItemFailures).toHaveLength(2);
      expect(await queue.receive(queue.deadLetterQueueUrl)).toEqual([]);
      const refused = logs.entries().filter((e) => e[SETTINGS_REFUSAL_FIELD] === "settings");
      expect(refused).toHaveLength(2);
      for (const line of refused) {
        expect(line).toMatchObject({
          level: "error",
          message: expect.stringMatching(/because of the settings/),
        });
        expect(line.retryInSeconds).toBeGreaterThanOrEqual(
          Math.floor(RETRY_POLICY.baseSeconds * RETRY_POLICY.jitter[0]),
        );
      }
    },
  );

  it("keeps two containers apart with the fleet's schedule, where their shares alone collide", async () => {
    // A provider allowing 2 a second and saving up no more than one message (SES's sandbox, faster).
    const run = async (withSchedule: boolean) => {
      const smtp = await smtpServer({ limits: { ratePerSecond: 2, burst: 1 } });
      const queue = await sqsFixture();
      const table = await sendScheduleTable();
      const env = {
        ...queue.env,
        ...table.env,
        SEND_RATE_PER_SECOND: "1",
        // Slots 700 ms apart for a provider that needs 500: a busy test machine may delay a MAIL
        // FROM after its slot by a hundred milliseconds, which 5% of 500 ms (the margin a real
        // fleet at the limit has) would not cover; the schedule's point is kept: the shares alone collide.
        ...(withSchedule ? { FLEET_SEND_RATE_PER_SECOND: "1.5" } : { SEND_SCHEDULE_TABLE: "" }),
      };
      const containers = [await deploy(smtp.port, env), await deploy(smtp.port, env)];
      const events = [await batchOf(queue, [0, 1, 2].map(note)), await batchOf(queue, [3, 4, 5].map(note))];
      const results = await Promise.all(
        containers.map(({ handler }, i) => handler(events[i] as SQSEvent, lambdaContext())),
      );
      return { smtp, results, table };
    };

    const alone = await run(false);
    expect(alone.smtp.limits?.stats.throttledMessages).toBeGreaterThan(0);

    const together = await run(true);
    expect(together.smtp.limits?.stats.throttledMessages).toBe(0);
    expect(together.results.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(together.smtp.messages).toHaveLength(6);
    expect(await together.table.nextSlot()).toBeGreaterThan(0);
  });

  it("sends no faster than its share of the rate, so the provider never has to throttle", async () => {
    // A provider saving up a second's worth (SES's bucket). The container may start two sends at
    // once (shareBurst), then one every 200 ms: the 12th at 2 s, when the provider has had 15
    // tokens. Twice the share would start the 12th at 1 s, with 10 tokens: refused. (A bucket
    // smaller than a second's worth, with a share of the whole rate, leaves no margin at all: the
    // arrival of a send that opened its connection is later than the next one's.)
    const smtp = await smtpServer({ limits: { ratePerSecond: 5, burst: 5 } });
    const queue = await sqsFixture();
    const { handler } = await deploy(smtp.port, { ...queue.env, SEND_RATE_PER_SECOND: "5" });

    const event = await batchOf(
      queue,
      Array.from({ length: 12 }, (_, i) => note(i)),
    );
    const result = await handler(event, lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(smtp.messages).toHaveLength(12);
    expect(smtp.limits?.stats.throttledMessages).toBe(0);
  });
});

describe("send-notification with no rate configured (provider unlimited)", () => {
  it("learns a rate at the provider's first throttle, paces the next batch by it, and shares it with the fleet", async () => {
    // A provider allowing 4 a second, saving up 2; the stack configured no rate.
    const smtp = await smtpServer({ limits: { ratePerSecond: 4, burst: 2 } });
    const queue = await sqsFixture({ visibilityTimeoutSeconds: 1 });
    const table = await sendScheduleTable();
    const env = { ...queue.env, ...table.env };
    const first = await deploy(smtp.port, env);

    // Unpaced, the first batch meets the limit; a rate is learned, and the batch goes on at it,
    // sending what was refused again at the slowed pace: all 8 out, none left to a back-off.
    const one = await first.handler(
      await batchOf(queue, [0, 1, 2, 3, 4, 5, 6, 7].map(note)),
      lambdaContext(),
    );
    expect(smtp.limits?.stats.throttledMessages).toBeGreaterThan(0);
    expect(one.batchItemFailures).toEqual([]);
    expect(new Set(smtp.messages.flatMap((m) => m.to)).size).toBe(8);
    expect(first.logs.entries().find((e) => e.message === "Batch done")?.retriedInBatch).toBeGreaterThan(0);
    const learned = first.logs.entries().find((e) => e.message === LEARNED_RATE_MESSAGE);
    expect(learned?.learnedPerSecond).toBeGreaterThan(0);
    expect(learned?.learnedPerSecond).toBeLessThanOrEqual(4);
    expect(learned?.suggestedMaxSendRate).toMatch(/× the containers sending at once/);
    const throttledBefore = smtp.limits?.stats.throttledMessages ?? 0;

    // Another container, never throttled itself, starts at the fleet's learned pace: no throttle.
    await new Promise((r) => setTimeout(r, 1000)); // the provider's bucket refills
    const second = await deploy(smtp.port, env);
    const sentBefore = smtp.messages.length;
    const two = await second.handler(await batchOf(queue, [10, 11, 12, 13].map(note)), lambdaContext());
    expect(two.batchItemFailures).toEqual([]);
    expect(smtp.messages.length - sentBefore).toBe(4);
    expect(smtp.limits?.stats.throttledMessages).toBe(throttledBefore);
  });
});

describe("send-notification with no connection limit configured (provider unlimited)", () => {
  it("counts the fleet's connections, learns the relay's limit at its first refusal, and sends every record", async () => {
    // A relay allowing two connections (Postfix's anvil), slow to greet so three sessions overlap.
    const smtp = await smtpServer({ limits: { maxConnections: 2 }, greetingDelayMs: 300 });
    const queue = await sqsFixture({ visibilityTimeoutSeconds: 30 });
    const table = await sendScheduleTable();
    const env = { ...queue.env, ...table.env };
    const containers = await Promise.all([0, 1, 2].map(() => deploy(smtp.port, env)));
    const batches: SQSEvent[] = [];
    for (const c of [0, 1, 2])
      batches.push(
        await batchOf(
          queue,
          [0, 1, 2].map((i) => note(c * 10 + i)),
        ),
      );

    const reports = await Promise.all(
      containers.map((c, i) => c.handler(batches[i] as SQSEvent, lambdaContext())),
    );

    expect(reports.flatMap((r) => r.batchItemFailures)).toEqual([]);
    expect(new Set(smtp.messages.flatMap((m) => m.to)).size).toBe(9);
    expect(smtp.limits?.stats.refusedConnections).toBe(1);
    const learned = containers
      .flatMap((c) => c.logs.entries())
      .filter((e) => e.message === CONNECTION_LIMIT_MESSAGE);
    expect(learned).toHaveLength(1);
    expect(learned[0]?.learnedConnections).toBeGreaterThanOrEqual(1);
    expect(learned[0]?.learnedConnections).toBeLessThanOrEqual(2);
    const state = await dynamoConnectionLeases({ tableName: table.tableName, client: dynamoClient() }).read();
    expect(state.limit?.connections).toBe(learned[0]?.learnedConnections);
  });
});

describe("send-notification and the invocation's time", () => {
  /** A context whose time left runs out `ms` after it is made, as Lambda's does. */
  const endingIn = (ms: number) => {
    const end = Date.now() + ms;
    return { ...lambdaContext(), getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
  };

  it("sends when SMTPServerTimeout is longer than the function's timeout allows, each stage bounded by the time left", async () => {
    const smtp = await smtpServer();
    const queue = await sqsFixture();
    // SMTPServerTimeout raised to 100 s without a redeploy: a session and a send (2 × 100 s) do not fit in 30 s.
    const { handler, logs } = await deploy(smtp.port, queue.env, { SMTPServerTimeout: "100" });

    const event = await batchOf(queue, [0, 1, 2].map(note));
    const result = await handler(event, endingIn(30_000));

    expect(result.batchItemFailures).toEqual([]);
    expect(smtp.messages).toHaveLength(3);
    expect(
      logs.entries().find((e) => /longer than this function's timeout allows/.test(String(e.message))),
    ).toMatchObject({
      SMTPServerTimeout: 100,
      boundedTo: 13,
    });
  });

  it("brings a record it had no time to start back after a back-off, not at once", async () => {
    const smtp = await smtpServer();
    const queue = await sqsFixture({ visibilityTimeoutSeconds: 1 });
    const { handler, logs } = await deploy(smtp.port, queue.env);

    const event = await batchOf(queue, [note(1)]);
    // Less than a session, a send and the queue calls after them, even at a 1 s timeout each.
    const result = await handler(event, endingIn(4_000));

    expect(smtp.messages).toHaveLength(0);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([event.Records[0]?.messageId]);
    const [low] = RETRY_POLICY.jitter;
    expect(
      logs.entries().find((e) => /not attempted/.test(String(e.message)))?.retryInSeconds,
    ).toBeGreaterThanOrEqual(Math.floor(RETRY_POLICY.baseSeconds * low));
    // Past the queue's own visibility timeout, it is not back: it waits out its back-off.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await queue.receive(queue.queueUrl)).toEqual([]);
  });

  it("returns its report before the invocation ends when the queue stops answering, the sent record acknowledged", async () => {
    const smtp = await smtpServer();
    const sqs = await startSilentServer();
    try {
      const { handler } = await deploy(smtp.port, {
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqs.port}`,
        NOTIFICATION_QUEUE_URL: `http://127.0.0.1:${sqs.port}/123456789012/notifications`,
        DEAD_LETTER_QUEUE_URL: `http://127.0.0.1:${sqs.port}/123456789012/notifications-dlq`,
      });
      const records = [
        sqsRecord(note(1), { messageId: "good" }),
        sqsRecord({ to: "not-an-address", text: "x" }, { messageId: "invalid" }),
      ];
      const timeLeft = 6_000;
      const started = Date.now();
      const result = await handler(sqsEvent(records), endingIn(timeLeft));

      // Returned in time (Lambda would otherwise fail the whole batch, the sent record with it).
      expect(Date.now() - started).toBeLessThan(timeLeft);
      expect(smtp.messages.flatMap((m) => m.to)).toEqual(["user1@example.com"]);
      // The dead-lettering never got an answer: that record comes back; the sent one does not.
      expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["invalid"]);
    } finally {
      await sqs.close();
    }
  }, 30_000);
});
