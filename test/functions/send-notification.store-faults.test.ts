/**
 * send-notification when the fleet's send schedule (DynamoDB) misbehaves, against real servers: a
 * TCP server on 127.0.0.1 standing in for DynamoDB that accepts and never answers, or answers
 * after seconds; moto_server's DynamoDB holding a slot far in the future; a real SMTP server.
 * Whatever the store does, the batch is sent at the container's own share, on a session that
 * stays alive (docs/delivery.md, "One schedule for the fleet").
 */
import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createHandler } from "../../functions/send-notification.ts";
import { SEND_SCHEDULE_KEY } from "../../lib/aws-dynamodb/index.ts";
import { dynamoClient, dynamoEnv, sendScheduleTable } from "../helpers/dynamodb.ts";
import { captureLogs, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { perTest } from "../helpers/per-test.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const { defer, smtpServer } = perTest();

/** A stand-in for DynamoDB that accepts connections and never answers. */
async function silentDynamo() {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  defer(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, accepted: () => accepted };
}

/** A stand-in for an overloaded DynamoDB: every request is answered, after `delayMs`, with a 503. */
async function slowDynamo(delayMs: number) {
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = createHttpServer((req, res) => {
    requests++;
    req.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(503, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify({ __type: "ServiceUnavailable", message: "overloaded" }));
    }, delayMs);
    timers.add(timer);
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  defer(async () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

/**
 * One container with the fleet's schedule: its own share 5 a second, the fleet's rate 10, and the
 * connection limit known (no leases: test/lib/notifications/connection-leases.test.ts has those
 * under a failing store).
 */
async function deploy(smtpPort: number, env: Record<string, string>, settings: Record<string, string> = {}) {
  const ssm = ssmFixture();
  await ssm.putSettings({
    SMTPServer: "127.0.0.1",
    SMTPPort: String(smtpPort),
    FeedbackEmail: "noreply@chat.example",
    ...settings,
  });
  const logs = captureLogs();
  const handler = createHandler({
    env: {
      SETTINGS_PATH: ssm.root,
      SEND_RATE_PER_SECOND: "5",
      FLEET_SEND_RATE_PER_SECOND: "10",
      FLEET_MAX_CONNECTIONS: "4",
      ...env,
    },
    store: ssm.store(),
    write: logs.write,
  });
  return { handler, logs };
}

/** Ten notifications, and an invocation with two minutes left. */
const batch = () =>
  sqsEvent(
    Array.from({ length: 10 }, (_, i) =>
      sqsRecord({ to: `user${i}@example.com`, subject: `Mention ${i}`, text: "Hi" }),
    ),
  );
const context = (): Context => {
  const end = Date.now() + 120_000;
  return { ...lambdaContext(), getRemainingTimeInMillis: () => end - Date.now() };
};
const scheduleWarnings = (logs: ReturnType<typeof captureLogs>) =>
  logs.entries().filter((e) => /send schedule could not be used/.test(String(e.message)));

describe("send-notification when the fleet's send schedule misbehaves", () => {
  it("sends the whole batch at its own share when DynamoDB accepts and never answers", {
    timeout: 150_000,
  }, async () => {
    const smtp = await smtpServer();
    const dynamo = await silentDynamo();
    const { handler, logs } = await deploy(smtp.port, {
      ...dynamoEnv(),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      SEND_SCHEDULE_TABLE: "schedule",
    });

    const started = performance.now();
    const result = await handler(batch(), context());
    const elapsed = performance.now() - started;

    expect(smtp.messages).toHaveLength(10);
    expect(result.batchItemFailures).toEqual([]);
    // One store call cut at its deadline (1 s), then 10 sends at 5 a second: about 3 s.
    expect(elapsed).toBeLessThan(5_000);
    expect(dynamo.accepted()).toBe(1); // then the container paced itself without the store
    expect(scheduleWarnings(logs)).toHaveLength(1);
    console.info(`silent DynamoDB: 10 of 10 sent in ${Math.round(elapsed)} ms`);
  });

  it("sends the whole batch on a live session when DynamoDB answers only after seconds", {
    timeout: 150_000,
  }, async () => {
    // A session idle 4 s is dropped (nodemailer's socket timeout is SMTPServerTimeout): a store
    // answering after 4.5 s, waited for on a ready session, used to cost every send its session.
    const smtp = await smtpServer();
    const dynamo = await slowDynamo(4_500);
    const { handler, logs } = await deploy(
      smtp.port,
      { ...dynamoEnv(), AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, SEND_SCHEDULE_TABLE: "schedule" },
      { SMTPServerTimeout: "4" },
    );

    const started = performance.now();
    const result = await handler(batch(), context());
    const elapsed = performance.now() - started;

    expect(smtp.messages).toHaveLength(10);
    expect(result.batchItemFailures).toEqual([]);
    expect(elapsed).toBeLessThan(5_000);
    expect(smtp.connections()).toBe(1); // one session for the batch: none died idle
    expect(dynamo.requests()).toBe(1);
    expect(scheduleWarnings(logs)).toHaveLength(1);
    console.info(`DynamoDB answering after 4.5 s: 10 of 10 sent in ${Math.round(elapsed)} ms`);
  });

  it("sends at once past a next slot written 10 years ahead, and rewrites it", {
    timeout: 150_000,
  }, async () => {
    const smtp = await smtpServer();
    const table = await sendScheduleTable();
    await dynamoClient().call("PutItem", {
      TableName: table.tableName,
      Item: {
        [SEND_SCHEDULE_KEY.attribute]: { S: SEND_SCHEDULE_KEY.value },
        nextSlot: { N: String(Date.now() + 10 * 365 * 86_400_000) },
      },
    });
    const { handler } = await deploy(smtp.port, table.env);

    const started = performance.now();
    const result = await handler(batch(), context());
    const elapsed = performance.now() - started;

    expect(smtp.messages).toHaveLength(10);
    expect(result.batchItemFailures).toEqual([]);
    expect(elapsed).toBeLessThan(5_000);
    expect(await table.nextSlot()).toBeLessThan(Date.now() + 1_000);
    console.info(`next slot 10 years ahead: 10 of 10 sent in ${Math.round(elapsed)} ms`);
  });
});
