/**
 * `mm-email trace`: one notification's story read back from send-notification's log group. The
 * lines are the real function's, written while it sent through real SMTP servers, then put into
 * the stack's log group in moto's CloudWatch Logs as Lambda would put them.
 */
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { describe, expect, it } from "vitest";
import { trace } from "../../cli/commands/trace.ts";
import { runCommand } from "../../cli/context.ts";
import { createHandler } from "../../functions/send-notification.ts";
import { captureLogs, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { perTest } from "../helpers/per-test.ts";
import { deployedStack } from "./fixture.ts";

const { smtpServer } = perTest();

/** Two containers' worth of send-notification: the first against `first`, the second against `second`. */
async function story() {
  const stack = await deployedStack();
  const first = await smtpServer({
    rcptReplies: {
      "busy@example.com": { code: 451, message: "4.3.0 Mailbox busy, try later" },
      "gone@example.com": { code: 550, message: "5.1.1 No such user" },
    },
  });
  const second = await smtpServer();
  const logs = captureLogs();
  const run = async (port: number, records: ReturnType<typeof sqsRecord>[]) => {
    await stack.ssm.putSettings({
      SMTPServer: "127.0.0.1",
      SMTPPort: String(port),
      FeedbackEmail: "noreply@chat.example",
    });
    const handler = createHandler({
      env: { SETTINGS_PATH: stack.ssm.root },
      store: stack.ssm.store(),
      write: logs.write,
    });
    await handler(sqsEvent(records), lambdaContext("send-notification"));
  };
  const note = (to: string) => ({ to, subject: "You were mentioned", text: "Hi" });
  await run(first.port, [
    sqsRecord(note("busy@example.com"), { messageId: "busy-1" }),
    sqsRecord(note("gone@example.com"), { messageId: "gone-1" }),
    sqsRecord(note("fine@example.com"), { messageId: "fine-1" }),
  ]);
  await run(second.port, [sqsRecord(note("busy@example.com"), { messageId: "busy-1", receiveCount: 2 })]);

  const client = new CloudWatchLogsClient({ endpoint: stack.env.AWS_ENDPOINT_URL, region: "us-east-1" });
  await client.send(
    new CreateLogStreamCommand({ logGroupName: stack.logGroup, logStreamName: "2026/12/06/[$LATEST]a" }),
  );
  const start = Date.now() - 60_000;
  await client.send(
    new PutLogEventsCommand({
      logGroupName: stack.logGroup,
      logStreamName: "2026/12/06/[$LATEST]a",
      logEvents: logs.lines.map((message, i) => ({ message, timestamp: start + i })),
    }),
  );
  return { stack, first, second, logs };
}

describe("trace", () => {
  it("tells a retried notification's story by its id: each attempt, its server and reply, then SENT", async () => {
    const { stack, first, second } = await story();
    const { ctx, out } = stack.cli();
    expect(await trace(ctx, "busy-1")).toBe(0);
    const text = out();
    expect(text).toMatch(
      new RegExp(`retry\\s+1\\s+127\\.0\\.0\\.1:${first.port}\\s+.*451 4\\.3\\.0 Mailbox busy`),
    );
    expect(text).toMatch(new RegExp(`sent\\s+2\\s+127\\.0\\.0\\.1:${second.port}\\s+250`));
    expect(text).toMatch(new RegExp(`SENT at \\S+ to 127\\.0\\.0\\.1:${second.port}: 250`));
    // By its Message-ID, the same story.
    const byHeader = stack.cli();
    expect(await trace(byHeader.ctx, "<busy-1@chat.example>", { json: true })).toBe(0);
    const json = JSON.parse(byHeader.out());
    expect(json.notifications).toHaveLength(1);
    expect(json.notifications[0].lines.map((l: { event: string }) => l.event)).toEqual(["retry", "sent"]);
  });

  it("finds a recipient's notifications by the key the logs hold, never the address", async () => {
    const { stack, logs } = await story();
    const { ctx, out } = stack.cli();
    expect(await trace(ctx, undefined, { to: "Gone@Example.com" })).toBe(0);
    expect(out()).toMatch(/Notification gone-1\n/);
    expect(out()).toMatch(/DEAD-LETTERED at \S+ to 127\.0\.0\.1:\d+: .*550 5\.1\.1 No such user/);
    // The function's own fields never hold an address: only the server's quoted reply may.
    for (const entry of logs.entries()) {
      const { error: _error, reason: _reason, ...own } = entry;
      expect(JSON.stringify(own)).not.toMatch(/@example\.com/);
    }
  });

  it("exit 1 and a clear line when no log line mentions it", async () => {
    const { stack } = await story();
    const { ctx, err } = stack.cli();
    expect(await trace(ctx, "never-queued")).toBe(1);
    expect(err()).toContain(`No notification never-queued in ${stack.logGroup} over the last 24 h`);
    const usage = stack.cli();
    expect(await runCommand(usage.ctx, () => trace(usage.ctx, undefined))).toBe(2);
  });
});
