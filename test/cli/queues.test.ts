import { execFile, spawnSync } from "node:child_process";
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { dlqList, dlqPurge, dlqRedrive, dlqShow } from "../../cli/commands/dlq.ts";
import { send } from "../../cli/commands/send.ts";
import { status } from "../../cli/commands/status.ts";
import { runCommand } from "../../cli/context.ts";
import { createHandler } from "../../functions/send-notification.ts";
import { DEAD_LETTER_ATTRIBUTES } from "../../lib/aws-sqs/index.ts";
import { CONNECTION_LIMIT_MESSAGE, LEARNED_RATE_MESSAGE } from "../../lib/notifications/index.ts";
import { emfOf, readEmfLine } from "../helpers/emf.ts";
import { captureLogs, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { perTest } from "../helpers/per-test.ts";
import { deployedStack, motoEnv } from "./fixture.ts";
import { localRuns } from "./local-run.ts";

const startLocal = localRuns();
const { smtpServer } = perTest();

async function queues(stack: Awaited<ReturnType<typeof deployedStack>>) {
  const sqs = new SQSClient({ endpoint: stack.env.AWS_ENDPOINT_URL, region: "us-east-1", maxAttempts: 1 });
  const { ctx } = stack.cli();
  const s = await ctx.stack();
  return {
    sqs,
    queue: s.outputs.NotificationQueueUrl as string,
    dlq: s.outputs.DeadLetterQueueUrl as string,
  };
}

const deadLetterAttributes = (sourceId: string) => ({
  [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: "550 mailbox unavailable" },
  [DEAD_LETTER_ATTRIBUTES.code]: { DataType: "String", StringValue: "EENVELOPE" },
  [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: "Number", StringValue: "1" },
  [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: "String", StringValue: sourceId },
});

describe("send", () => {
  it("validates with the product's schema before queueing (exit 2)", async () => {
    const local = await startLocal();
    const { ctx, err } = local.cli();
    expect(await runCommand(ctx, () => send(ctx, { to: "nobody", subject: "Hi", text: "x" }))).toBe(2);
    expect(err()).toContain("to: must be an email address");
  });

  it("against the local run: --wait follows it until it is sent", async () => {
    const local = await startLocal();
    const { ctx, out } = local.cli();
    const code = await runCommand(ctx, () =>
      send(ctx, {
        to: "you@example.com",
        subject: "Hello from the CLI",
        text: "It works.",
        wait: true,
        timeout: 20,
        pollMs: 100,
      }),
    );
    expect(code).toBe(0);
    expect(out()).toMatch(/Sent: .* has left the queue/);
    expect(local.product.mailbox.messages.some((m) => m.subject === "Hello from the CLI")).toBe(true);
  });

  it("against a stack: SendMessage in the producers' shape; --wait sees it sent, or dead-lettered with why", async () => {
    const stack = await deployedStack();
    const { sqs, queue, dlq } = await queues(stack);
    const plain = stack.cli();
    expect(await send(plain.ctx, { to: "you@example.com", subject: "Hi", text: "Body", json: true })).toBe(0);
    const { messageId } = JSON.parse(plain.out());
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 0 }));
    expect(got.Messages?.[0]).toMatchObject({
      MessageId: messageId,
      Body: JSON.stringify({ to: "you@example.com", subject: "Hi", text: "Body" }),
    });
    // Sent: the "function" deletes it while we wait.
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue, ReceiptHandle: got.Messages?.[0]?.ReceiptHandle }),
    );

    const waiting = stack.cli();
    waiting.ctx.sleep = async () => {
      // The "function" dead-letters it, with its reasons, as send-notification does.
      const m = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 0 }));
      for (const msg of m.Messages ?? []) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: dlq,
            MessageBody: msg.Body,
            MessageAttributes: deadLetterAttributes(msg.MessageId as string),
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queue, ReceiptHandle: msg.ReceiptHandle }));
      }
    };
    const code = await runCommand(waiting.ctx, () =>
      send(waiting.ctx, {
        to: "you@example.com",
        subject: "Doomed",
        text: "x",
        wait: true,
        timeout: 20,
        pollMs: 10,
      }),
    );
    expect(code).toBe(1);
    expect(waiting.out()).toContain("DEAD-LETTERED");
    expect(waiting.out()).toContain("EENVELOPE: 550 mailbox unavailable");
  });
});

describe("dlq", () => {
  it("lists each dead letter with why; shows one; redrives one; purges with --yes only", async () => {
    const stack = await deployedStack();
    const { sqs, queue, dlq } = await queues(stack);
    const byFunction = await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq,
        MessageBody: JSON.stringify({ to: "a@example.com", subject: "One", text: "x" }),
        MessageAttributes: deadLetterAttributes("source-1"),
      }),
    );
    const byRedrive = await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq,
        MessageBody: JSON.stringify({ to: "b@example.com", subject: "Two", text: "y" }),
      }),
    );

    const list = stack.cli();
    expect(await dlqList(list.ctx, { json: true })).toBe(0);
    const letters = JSON.parse(list.out());
    expect(letters).toHaveLength(2);
    expect(letters.find((l: { messageId: string }) => l.messageId === byFunction.MessageId)).toMatchObject({
      by: "function",
      reason: "550 mailbox unavailable",
      code: "EENVELOPE",
      receiveCount: 1,
      sourceMessageId: "source-1",
      to: "a@example.com",
    });
    expect(letters.find((l: { messageId: string }) => l.messageId === byRedrive.MessageId)).toMatchObject({
      by: "receive-limit",
      reason: expect.stringContaining("reached the receive limit"),
      subject: "Two",
    });
    const text = stack.cli();
    await dlqList(text.ctx);
    expect(text.out()).toMatch(/a@example\.com\s+One\s+1\s+EENVELOPE\s+550 mailbox unavailable/);

    const show = stack.cli();
    expect(await dlqShow(show.ctx, "source-1")).toBe(0);
    expect(show.out()).toContain('"subject":"One"');

    const redrive = stack.cli();
    expect(await dlqRedrive(redrive.ctx, [byFunction.MessageId as string])).toBe(0);
    expect(redrive.out()).toMatch(/redriven .* → /);
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 0 }));
    expect(back.Messages?.[0]?.Body).toContain('"subject":"One"');
    const left = stack.cli();
    await dlqList(left.ctx, { json: true });
    expect(JSON.parse(left.out()).map((l: { subject: string }) => l.subject)).toEqual(["Two"]);

    const missing = stack.cli();
    expect(await runCommand(missing.ctx, () => dlqRedrive(missing.ctx, ["nope"]))).toBe(1);

    // --all asks first, saying how many; refused, every letter stays.
    const all = stack.cli();
    expect(await runCommand(all.ctx, () => dlqRedrive(all.ctx, [], { all: true }))).toBe(2);
    expect(all.err()).toMatch(
      /Send all 1 letter\(s\) of the dead-letter queue back to the notification queue\? Refusing without a terminal/,
    );
    const kept = stack.cli();
    await dlqList(kept.ctx, { json: true });
    expect(JSON.parse(kept.out()).map((l: { subject: string }) => l.subject)).toEqual(["Two"]);

    const refused = stack.cli();
    expect(await runCommand(refused.ctx, () => dlqPurge(refused.ctx))).toBe(2);
    expect(refused.err()).toMatch(
      /Delete all 1 message\(s\) \(as SQS counts them\) in the dead-letter queue .*pass --yes/,
    );
    const purge = stack.cli("", { yes: true });
    expect(await dlqPurge(purge.ctx)).toBe(0);
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe("0");
    const empty = stack.cli();
    expect(await dlqPurge(empty.ctx)).toBe(0);
    expect(empty.out()).toBe("The dead-letter queue is empty: nothing to purge.\n");
  });

  it("against the local run: list, redrive (then the mail is captured), purge with --yes only", async () => {
    const local = await startLocal({ maxReceiveCount: 2 });
    const empty = local.cli();
    expect(await dlqList(empty.ctx, { json: true })).toBe(0);
    expect(JSON.parse(empty.out())).toEqual([]);
    const none = local.cli();
    expect(await dlqRedrive(none.ctx, [], { all: true })).toBe(0);
    expect(none.out()).toContain("nothing to redrive");

    // An outage of the embedded server until the receive limit moves both to the dead-letter list.
    local.product.mailbox.setLimits({ down: true });
    for (const subject of ["Held back", "Thrown away"])
      local.product.queue.send(JSON.stringify({ to: "you@example.com", subject, text: "x" }));
    await local.product.queue.drain(15_000);
    local.product.mailbox.setLimits({ down: false });

    const depth = async () => {
      const shown = local.cli();
      await status(shown.ctx, { json: true });
      return JSON.parse(shown.out()).deadLetterQueue.depth;
    };
    expect(await depth()).toBe(2);
    const list = local.cli();
    expect(await dlqList(list.ctx, { json: true })).toBe(0);
    const letters = JSON.parse(list.out()) as Array<{ messageId: string; subject: string; by: string }>;
    expect(letters.map((l) => l.subject).sort()).toEqual(["Held back", "Thrown away"]);
    expect(letters.every((l) => l.by === "receive-limit")).toBe(true);
    const held = letters.find((l) => l.subject === "Held back")?.messageId as string;

    const usage = local.cli();
    expect(await runCommand(usage.ctx, () => dlqRedrive(usage.ctx, []))).toBe(2);
    const missing = local.cli();
    expect(await runCommand(missing.ctx, () => dlqRedrive(missing.ctx, ["nope"]))).toBe(1);
    expect(missing.err()).toContain("Not in the dead-letter list: nope");

    const redrive = local.cli();
    expect(await dlqRedrive(redrive.ctx, [held])).toBe(0);
    expect(redrive.out()).toMatch(new RegExp(`redriven ${held} → \\S+`));
    await local.product.queue.drain(15_000);
    expect(local.product.mailbox.messages.map((m) => m.subject)).toEqual(["Held back"]);
    const left = local.cli();
    await dlqList(left.ctx, { json: true });
    expect(JSON.parse(left.out()).map((l: { subject: string }) => l.subject)).toEqual(["Thrown away"]);
    expect(await depth()).toBe(1);

    const all = local.cli();
    expect(await runCommand(all.ctx, () => dlqRedrive(all.ctx, [], { all: true }))).toBe(2);
    expect(all.err()).toMatch(/Send all 1 letter\(s\) of the local run's dead-letter list back/);
    expect(local.product.queue.deadLetters).toHaveLength(1);

    const refused = local.cli();
    expect(await runCommand(refused.ctx, () => dlqPurge(refused.ctx))).toBe(2);
    expect(refused.err()).toMatch(/Delete all 1 dead letter\(s\) of the local run at .*pass --yes/);
    expect(local.product.queue.deadLetters).toHaveLength(1);
    const purge = local.cli("", { yes: true });
    expect(await dlqPurge(purge.ctx)).toBe(0);
    expect(purge.out()).toContain("Purged 1 dead letter(s)");
    const after = local.cli();
    await dlqList(after.ctx, { json: true });
    expect(JSON.parse(after.out())).toEqual([]);
    // status counts what the list holds now, not every letter there ever was.
    expect(await depth()).toBe(0);
  });
});

describe("status", () => {
  it("--json: depths, in flight, the DLQ, alarms in ALARM, the alert check, the provider limits", async () => {
    const stack = await deployedStack();
    const { sqs, queue, dlq } = await queues(stack);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: "{}" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: "{}" }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 1 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: "{}" }));
    const cw = new CloudWatchClient({
      endpoint: motoEnv().AWS_ENDPOINT_URL,
      region: "us-east-1",
      maxAttempts: 1,
    });
    const alarm = `${stack.name}-DeadLetterAlarm1234-ABCD`;
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm,
        MetricName: "ApproximateNumberOfMessagesVisible",
        Namespace: "AWS/SQS",
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    await cw.send(
      new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "ALARM", StateReason: "1 dead letter" }),
    );
    await stack.ssm.put("SecurityAlerts/Sent/MMSA-1", JSON.stringify({ state: "sent" }));
    // The alert check's last run, as Lambda reports it: one invocation an hour ago, one error in it.
    const { ctx, out } = stack.cli();
    const alertFunction = (await ctx.stack()).functionName("security-alert-check") ?? "";
    const hourAgo = new Date(Math.floor((Date.now() - 3600_000) / 3600_000) * 3600_000 + 60_000);
    await cw.send(
      new PutMetricDataCommand({
        Namespace: "AWS/Lambda",
        MetricData: ["Invocations", "Errors"].map((MetricName) => ({
          MetricName,
          Dimensions: [{ Name: "FunctionName", Value: alertFunction }],
          Timestamp: hourAgo,
          Value: 1,
          Unit: "Count",
        })),
      }),
    );

    expect(await status(ctx, { json: true })).toBe(1); // an alarm is in ALARM
    const s = JSON.parse(out());
    // No CloudWatch datapoint: the age is unknown, so the key is left out (never a string in a number's place).
    expect(s.queue).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
    expect(s.deadLetterQueue).toEqual({ depth: 1 });
    expect(s.alarmsInAlarm).toEqual([{ name: alarm, reason: "1 dead letter" }]);
    expect(s.securityAlerts.lastSentMarkerAt).toMatch(/^\d{4}-/);
    expect(s.securityAlerts.lastRun).toMatchObject({
      at: expect.stringMatching(/^\d{4}-/),
      result: "failed",
    });
    expect(s.securityAlerts.checkFunctionLastModified).toMatch(/^\d{4}-/);
    expect(s.limits).toEqual({
      poolSize: 2,
      sendRatePerSecond: 0.5,
      maxConcurrency: 3,
      fleetSchedule: { ratePerSecond: 1.5, table: "mm-email-SendSchedule" },
      // A rate is configured: nothing is learned.
      learned: null,
      learnedConnections: null,
    });
    const text = stack.cli();
    await status(text.ctx);
    expect(text.out()).toMatch(
      /Provider limits\s+pool 2 per container, 0.5 msg\/s per container, at most 3 containers; fleet schedule: 1.5 msg\/s \(table mm-email-SendSchedule\)/,
    );
  });

  it("shows the rate send-notification learned when none is configured, and the maxSendRate it suggests", async () => {
    const stack = await deployedStack({
      functionEnv: { SEND_RATE_PER_SECOND: "", FLEET_SEND_RATE_PER_SECOND: "" },
    });
    const logs = new CloudWatchLogsClient({ endpoint: motoEnv().AWS_ENDPOINT_URL, region: "us-east-1" });
    const stream = "2026/12/06/[$LATEST]learn";
    await logs.send(new CreateLogStreamCommand({ logGroupName: stack.logGroup, logStreamName: stream }));
    const line = (perSecond: number) =>
      JSON.stringify({ level: "warn", message: LEARNED_RATE_MESSAGE, learnedPerSecond: perSecond });
    const at = Date.now() - 600_000;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: stack.logGroup,
        logStreamName: stream,
        logEvents: [
          { message: line(9), timestamp: at },
          { message: line(6.4), timestamp: at + 1000 },
          {
            message: JSON.stringify({
              level: "warn",
              message: CONNECTION_LIMIT_MESSAGE,
              learnedConnections: 4,
            }),
            timestamp: at + 2000,
          },
        ],
      }),
    );
    const { ctx, out } = stack.cli();
    await status(ctx, { json: true });
    // The newest learning, and with the fixture's maximum of 3 containers, 3 × 6.4.
    expect(JSON.parse(out()).limits.learned).toEqual({
      perSecond: 6.4,
      at: new Date(at + 1000).toISOString(),
      suggestedMaxSendRate: 19.2,
    });
    expect(JSON.parse(out()).limits.learnedConnections).toEqual({
      connections: 4,
      at: new Date(at + 2000).toISOString(),
    });
    const text = stack.cli();
    await status(text.ctx);
    expect(text.out()).toMatch(
      /learned 6\.4 msg\/s per container at .* \(set maxSendRate 19\.2 to keep it\)/,
    );
    expect(text.out()).toMatch(/learned a limit of 4 connections at .* \(set maxConnections 4 to keep it\)/);
  });

  it("says when the learned connection limit is below what maxConnections may be, rather than suggesting it", async () => {
    const stack = await deployedStack({
      functionEnv: { SEND_RATE_PER_SECOND: "", FLEET_SEND_RATE_PER_SECOND: "", FLEET_MAX_CONNECTIONS: "" },
    });
    const logs = new CloudWatchLogsClient({ endpoint: motoEnv().AWS_ENDPOINT_URL, region: "us-east-1" });
    const stream = "2026/12/06/[$LATEST]one";
    await logs.send(new CreateLogStreamCommand({ logGroupName: stack.logGroup, logStreamName: stream }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: stack.logGroup,
        logStreamName: stream,
        logEvents: [
          {
            message: JSON.stringify({
              level: "warn",
              message: CONNECTION_LIMIT_MESSAGE,
              learnedConnections: 1,
            }),
            timestamp: Date.now() - 60_000,
          },
        ],
      }),
    );
    const { ctx, out } = stack.cli();
    await status(ctx);
    expect(out()).toMatch(/learned a limit of 1 connections at .* \(below the lowest maxConnections, 2:/);
    expect(out()).not.toMatch(/set maxConnections 1/);
  });

  it("shows send-notification's last hour from its metrics: sent, deferred and dead-lettered by why, event to accepted p50 and p99", async () => {
    const stack = await deployedStack();
    const { ctx, out } = stack.cli();
    const functionName = (await ctx.stack()).functionName("send-notification") ?? "";
    // The real function's EMF lines, put into CloudWatch (moto) as CloudWatch Logs would.
    const smtp = await smtpServer({
      rcptReplies: { "busy@example.com": { code: 451, message: "Mailbox busy" } },
    });
    await stack.ssm.putSettings({ SMTPServer: "127.0.0.1", SMTPPort: String(smtp.port) });
    const logs = captureLogs();
    const handler = createHandler({
      env: { SETTINGS_PATH: stack.ssm.root, AWS_LAMBDA_FUNCTION_NAME: functionName },
      store: stack.ssm.store(),
      write: logs.write,
    });
    const sentAt = String(Date.now() - 1500);
    const record = (to: string) => {
      const r = sqsRecord({ to, subject: "Hi", text: "Hi" });
      return { ...r, attributes: { ...r.attributes, SentTimestamp: sentAt } };
    };
    await handler(
      sqsEvent([
        record("a@example.com"),
        record("b@example.com"),
        record("busy@example.com"),
        sqsRecord({ to: "x" }),
      ]),
      lambdaContext("send-notification"),
    );
    const cw = new CloudWatchClient({
      endpoint: motoEnv().AWS_ENDPOINT_URL,
      region: "us-east-1",
      maxAttempts: 1,
    });
    for (const line of emfOf(logs.lines)) {
      for (const { namespace, data } of readEmfLine(line)) {
        await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
      }
    }

    await status(ctx, { json: true });
    const hour = JSON.parse(out()).lastHour;
    expect(hour).toMatchObject({
      sent: 2,
      deferred: { throttle: 0, quota: 0, connection: 1, settings: 0 },
      deadLettered: { invalid: 1, refused: 0 },
    });
    expect(hour.eventToAcceptedMs.p50).toBeGreaterThanOrEqual(1500);
    expect(hour.eventToAcceptedMs.p99).toBeGreaterThanOrEqual(hour.eventToAcceptedMs.p50);
    const text = stack.cli();
    await status(text.ctx);
    expect(text.out()).toMatch(
      /Last hour\s+2 sent; deferred 0 throttle, 0 quota, 1 connection, 0 settings; dead-lettered 1 invalid, 0 refused; event to accepted p50 \d+ ms, p99 \d+ ms/,
    );
  });

  it("against the local run", async () => {
    const local = await startLocal();
    const { ctx, out } = local.cli();
    expect(await status(ctx, { json: true })).toBe(0);
    const s = JSON.parse(out());
    expect(s).toMatchObject({ queue: { visible: 0 }, deadLetterQueue: { depth: 0 }, securityAlerts: {} });
    // What the local run cannot know is left out; what has no limit is null.
    expect(s).not.toHaveProperty("alarmsInAlarm");
    expect(s.limits).toEqual({ maxConcurrency: 2, fleetSchedule: null });
    const text = local.cli();
    await status(text.ctx);
    expect(text.out()).toMatch(/Alarms\s+unknown/);
    expect(text.out()).toMatch(
      /Provider limits\s+pool unknown per container, unknown msg\/s per container, at most 2 containers; fleet schedule: none/,
    );
  });
});

describe("the binary", () => {
  it("runs --help and one --json command in a child process", async () => {
    const node = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
    const bin = new URL("../../cli/main.ts", import.meta.url).pathname;
    const help = spawnSync(node, [bin, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(
      "Exit codes: 0 ok, 1 the thing checked failed, 2 usage error, 3 AWS or network error",
    );
    const local = await startLocal();
    // Asynchronously: this process serves the local run the child calls.
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        node,
        [bin, "--local", local.product.url, "settings", "show", "--json"],
        (_e, stdout) => resolve({ code: child.exitCode, stdout }),
      );
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).settings.SMTPServer.value).toBe("127.0.0.1");
    const usage = spawnSync(node, [bin, "send", "--to", "x@example.com"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
  });
});
