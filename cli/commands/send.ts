/**
 * `send`: one notification, validated as send-notification validates it (parseNotificationBody),
 * onto the deployed queue (SendMessage to NotificationQueueUrl) or the local run's; `--wait`
 * follows it until it is sent (gone from the queue), dead-lettered, or the time is up.
 */
import { readFile } from "node:fs/promises";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { STACK_OUTPUTS } from "../../infra/outputs.ts";
import { parseNotificationBody } from "../../lib/notifications/index.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { type DeadLetter, receiveDeadLetters } from "../dead-letters.ts";
import { localError } from "../local.ts";
import { CliError, EXIT, printJson, progress, usageError } from "../output.ts";

export interface SendOptions {
  to: string;
  subject: string;
  text?: string;
  html?: string;
  wait?: boolean;
  /** Seconds --wait waits. */
  timeout?: string | number;
  json?: boolean;
  /** Between checks while waiting, ms. */
  pollMs?: number;
}

/** Where a queued notification is now. */
type Whereabouts =
  | { state: "queued"; waiting: number }
  | { state: "sent" }
  | { state: "dead-lettered"; letter: DeadLetter };

interface Queue {
  where: string;
  send(body: string): Promise<string>;
  follow(messageId: string): Promise<Whereabouts>;
}

function deployedQueue(ctx: CliContext): Queue {
  const urls = async () => {
    const stack = await ctx.stack();
    return {
      queue: stack.output(STACK_OUTPUTS.notificationQueueUrl),
      dlq: stack.output(STACK_OUTPUTS.deadLetterQueueUrl),
    };
  };
  return {
    where: "the notification queue",
    async send(body) {
      const { queue } = await urls();
      const out = await awsCall(`send to the notification queue ${queue}`, () =>
        ctx.aws().sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: body })),
      );
      return out.MessageId ?? "";
    },
    async follow(id) {
      const { queue, dlq } = await urls();
      const listing = await receiveDeadLetters(ctx, dlq, { holdSeconds: 5 });
      await listing.release();
      const letter = listing.letters.find((l) => l.sourceMessageId === id || l.messageId === id);
      if (letter) return { state: "dead-lettered", letter };
      const out = await awsCall(`read the attributes of ${queue}`, () =>
        ctx.aws().sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queue,
            AttributeNames: [
              "ApproximateNumberOfMessages",
              "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed",
            ],
          }),
        ),
      );
      const a = out.Attributes ?? {};
      const waiting =
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
      // SQS cannot look at one message without taking it from the function: an empty queue is the sign.
      return waiting === 0 ? { state: "sent" } : { state: "queued", waiting };
    },
  };
}

function localQueue(ctx: CliContext): Queue {
  const local = ctx.local;
  if (!local) throw new Error("not local");
  return {
    where: `the local run's queue (${local.url})`,
    async send(body) {
      const a = await local.post("/notifications", body);
      if (a.status !== 202) throw localError(a, "POST /notifications");
      return (a.body as { messageId: string }).messageId;
    },
    async follow(id) {
      const dead = await local.get("/api/dead-letters");
      const entry = (dead.body as Array<DeadLetter & { deadAt: string }>).find((d) => d.messageId === id);
      if (entry) return { state: "dead-lettered", letter: { ...entry, sourceMessageId: entry.messageId } };
      const q = (await local.get("/api/queue")).body as {
        queue: { visible: number; delayed: number; inFlight: number };
      };
      const waiting = q.queue.visible + q.queue.delayed + q.queue.inFlight;
      return waiting === 0 ? { state: "sent" } : { state: "queued", waiting };
    },
  };
}

export async function send(ctx: CliContext, options: SendOptions): Promise<number> {
  if ((options.text === undefined) === (options.html === undefined))
    throw usageError("Give the body with --text TEXT or --html FILE (one of them)");
  const html =
    options.html === undefined
      ? undefined
      : await readFile(options.html, "utf8").catch((error: Error) => {
          throw usageError(`Could not read --html ${options.html}: ${error.message}`);
        });
  const notification = {
    to: options.to,
    subject: options.subject,
    ...(options.text !== undefined ? { text: options.text } : {}),
    ...(html !== undefined ? { html } : {}),
  };
  const body = JSON.stringify(notification);
  const parsed = parseNotificationBody(body);
  if (!parsed.ok) throw usageError(`The notification is not valid: ${parsed.issues.join("; ")}`);
  const timeoutSeconds = Number(options.timeout ?? 300);
  if (!(timeoutSeconds > 0))
    throw usageError(`--timeout must be a number of seconds above 0; got ${options.timeout}`);

  const queue = ctx.local ? localQueue(ctx) : deployedQueue(ctx);
  const messageId = await queue.send(body);
  if (!options.wait) {
    if (options.json) printJson(ctx, { messageId, state: "queued" });
    else ctx.stdout.write(`Queued ${messageId} on ${queue.where}.\n`);
    return EXIT.ok;
  }
  if (!options.json) ctx.stdout.write(`Queued ${messageId}; waiting for it (at most ${timeoutSeconds} s)…\n`);
  const line = progress(ctx);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last: Whereabouts = { state: "queued", waiting: 1 };
  try {
    for (;;) {
      last = await queue.follow(messageId);
      if (last.state !== "queued" || Date.now() >= deadline) break;
      line.update(`waiting for ${messageId}: ${last.waiting} message(s) in the queue`);
      await ctx.sleep(Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now())));
    }
  } finally {
    line.done();
  }
  if (options.json) {
    printJson(ctx, {
      messageId,
      state: last.state === "queued" ? "timed-out" : last.state,
      ...(last.state === "dead-lettered" ? { deadLetter: { ...last.letter, receiptHandle: undefined } } : {}),
    });
  } else if (last.state === "sent") {
    ctx.stdout.write(`Sent: ${messageId} has left the queue and is not in the dead-letter queue.\n`);
  } else if (last.state === "dead-lettered") {
    ctx.stdout.write(
      `DEAD-LETTERED: ${messageId}: ${last.letter.code}: ${last.letter.reason}\n(mm-email dlq show ${last.letter.messageId})\n`,
    );
  }
  if (last.state === "queued") {
    throw new CliError(
      EXIT.failed,
      `${messageId} is still queued after ${timeoutSeconds} s (${last.waiting} message(s) waiting): see mm-email status`,
    );
  }
  return last.state === "sent" ? EXIT.ok : EXIT.failed;
}
