/**
 * A container killed mid-batch (issue 19, finding 1): the real handler in a process of its own,
 * SIGKILLed while the SMTP server holds a message's final dot, against moto's SQS with the
 * deployed visibility timeout. What the server accepted before the kill must never be sent again,
 * and what it did not must come back within the hold, not after the queue's visibility timeout.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { perTest } from "../helpers/per-test.ts";
import { batchOf, sqsFixture } from "../helpers/sqs.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const { smtpServer } = perTest();
const child = fileURLToPath(new URL("../helpers/send-notification-child.ts", import.meta.url));

/** As deployed: the function's timeout of 130 s. */
const DEPLOYED_VISIBILITY_SECONDS = 130;
const HOLD = { holdSeconds: 2, renewEveryMs: 500 };

describe("send-notification killed mid-batch", () => {
  it("never sends again what the server accepted, and brings the rest back within the hold", async () => {
    const accepted = 3;
    const smtp = await smtpServer({ stallAfterMessages: accepted });
    const queue = await sqsFixture({ visibilityTimeoutSeconds: DEPLOYED_VISIBILITY_SECONDS });
    const ssm = ssmFixture();
    await ssm.putSettings({
      SMTPServer: "127.0.0.1",
      SMTPPort: String(smtp.port),
      FeedbackEmail: "noreply@chat.example",
    });
    const event = await batchOf(
      queue,
      Array.from({ length: 8 }, (_, i) => ({ to: `user${i}@example.com`, subject: `n${i}`, text: "Hi" })),
    );
    expect(event.Records).toHaveLength(8);

    const proc = spawn(process.execPath, [child, JSON.stringify({ event, hold: HOLD })], {
      env: {
        ...queue.env,
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: inject("motoEndpoint"),
        SETTINGS_PATH: ssm.root,
        NOTIFICATION_POOL_SIZE: "1",
        LOG_LEVEL: "error",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    // Killed while the server holds the fourth message's final dot (bounded: 20 s).
    for (let i = 0; i < 200 && smtp.messages.length <= accepted; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(smtp.messages.length, output).toBe(accepted + 1);
    // The third message's delete is one round trip behind its 250 (in-flight.ts): give it that
    // round trip, as a crash a moment later would; the fourth stays in flight, held by the server.
    await new Promise((r) => setTimeout(r, 500));
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();

    // Everything not accepted comes back, each once, within the hold (and a margin for moto).
    const back = new Map<string, string>();
    while (Date.now() - killedAt < (HOLD.holdSeconds + 5) * 1000 && back.size < 8 - accepted) {
      for (const m of await queue.receive(queue.queueUrl)) back.set(m.MessageId as string, m.Body as string);
      await new Promise((r) => setTimeout(r, 250));
    }
    const sentTo = smtp.messages.slice(0, accepted).flatMap((m) => m.to);
    const backTo = [...back.values()].map((b) => JSON.parse(b).to as string);
    expect(backTo.sort()).toEqual(
      event.Records.map((r) => JSON.parse(r.body).to as string)
        .filter((to) => !sentTo.includes(to))
        .sort(),
    );
    // And what was accepted is gone from the queue: its copies are all received or none is left.
    const attributes = await queue.client.send(
      new (await import("@aws-sdk/client-sqs")).GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(Number(attributes.Attributes?.ApproximateNumberOfMessages)).toBe(0);
    expect(Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(8 - accepted);
  }, 60_000);
});
