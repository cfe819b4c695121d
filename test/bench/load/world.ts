/**
 * The load test's AWS side, in moto_server: the notification queue and its dead-letter queue as
 * the stack makes them (redrive after RETRY_POLICY.receiveLimit receives, the visibility timeout
 * the stack derives from the function's timeout), the fleet's send-schedule table in its DynamoDB
 * when the provider limits a rate, the function's settings in SSM, and the bundle
 * as deployed (bundleFunction, the same call CDK's bundling makes). Only 127.0.0.1.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { bundleFunction, PROJECT_ROOT } from "../../../infra/bundling.ts";
import { liteJsonClient } from "../../../lib/aws/json-client.ts";
import { DYNAMODB_SERVICE, sendScheduleTableInput } from "../../../lib/aws-dynamodb/index.ts";
import { createSsmClient } from "../../../lib/aws-ssm/sdk-client.ts";
import { RETRY_POLICY } from "../../../lib/notifications/backoff.ts";

export const REGION = "us-east-1";
export const CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" } as const;

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 });
}

/**
 * Builds send-notification as deployed into `dir`/bundle and returns its index.mjs. The AWS SDK
 * is external in the bundle (Lambda's runtime provides it): a node_modules link beside the bundle
 * stands for the runtime's copy.
 */
export function buildBundle(dir: string): string {
  const out = join(dir, "bundle");
  bundleFunction("send-notification", out);
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return join(out, "index.mjs");
}

export interface NotificationQueues {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
}

/** The queue and its dead-letter queue, with the stack's redrive policy and visibility timeout. */
export async function createNotificationQueues(
  sqs: SQSClient,
  name: string,
  visibilityTimeoutSeconds: number,
): Promise<NotificationQueues> {
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn ?? "";
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      // The stack keeps dead letters 14 days.
      Attributes: { MessageRetentionPeriod: String(14 * 86_400) },
    }),
  );
  const deadLetterQueueUrl = dlq.QueueUrl ?? "";
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await arnOf(deadLetterQueueUrl),
          maxReceiveCount: RETRY_POLICY.receiveLimit,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl ?? "";
  return { queueUrl, queueArn: await arnOf(queueUrl), deadLetterQueueUrl };
}

/** The fleet's send schedule as the stack makes it when the provider limits a rate: its table name. */
export async function createSendScheduleTable(endpoint: string, name: string): Promise<string> {
  const client = liteJsonClient(DYNAMODB_SERVICE, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: endpoint,
  });
  if (!client) throw new Error("no DynamoDB client");
  await client.call("CreateTable", sendScheduleTableInput(`${name}-schedule`));
  return `${name}-schedule`;
}

/** The function's settings under `root` (EmailSettings/<name>), as SSM String parameters. */
export async function seedSettings(endpoint: string, root: string, settings: Record<string, string>) {
  const ssm = createSsmClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  for (const [name, value] of Object.entries(settings)) {
    await ssm.send(
      new PutParameterCommand({
        Name: `${root}/EmailSettings/${name}`,
        Value: value,
        Type: "String",
        Overwrite: true,
      }),
    );
  }
}

/** Sends every body (SendMessageBatch, 10 a call, a few calls at once); the message ids, in order. */
export async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<string[]> {
  const ids: string[] = new Array(bodies.length).fill("");
  const chunks: number[] = [];
  for (let i = 0; i < bodies.length; i += 10) chunks.push(i);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const start = chunks[next++] ?? 0;
      const entries = bodies
        .slice(start, start + 10)
        .map((body, k) => ({ Id: String(start + k), MessageBody: body }));
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
      for (const ok of out.Successful ?? []) ids[Number(ok.Id)] = ok.MessageId ?? "";
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return ids;
}

export { type QueueDepth, queueDepth } from "../../../cli/queue-depth.ts";

export interface DeadLetterEntry {
  /** The dead-letter message's id: the original's when the redrive policy moved it. */
  messageId: string;
  body: string;
  receiveCount: number;
  /** Its message attributes (the function's FailureReason, FailureCode… when it put it there). */
  attributes: Record<string, string>;
}

/**
 * Everything on the dead-letter queue, read once (each message is hidden for an hour, so a
 * message is never counted twice); bounded to `max` messages and 200 receives.
 */
export async function readDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  max = 100_000,
): Promise<DeadLetterEntry[]> {
  const out: DeadLetterEntry[] = [];
  let emptyInARow = 0;
  for (let calls = 0; calls < 200 && out.length < max && emptyInARow < 2; calls++) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 3600,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages: Message[] = got.Messages ?? [];
    emptyInARow = messages.length === 0 ? emptyInARow + 1 : 0;
    for (const m of messages) {
      out.push({
        messageId: m.MessageId ?? "",
        body: m.Body ?? "",
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        attributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]),
        ),
      });
    }
  }
  return out;
}
