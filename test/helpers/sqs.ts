/** The notification queue and its dead-letter queue in the run's moto_server, as the stack makes them. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { inject } from "vitest";
import { RETRY_POLICY } from "../../lib/notifications/index.ts";

let n = 0;

export async function sqsFixture({
  visibilityTimeoutSeconds = 60,
}: {
  visibilityTimeoutSeconds?: number;
} = {}) {
  const endpoint = inject("motoEndpoint");
  const client = new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
  const name = `t-${process.pid}-${Date.now()}-${++n}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: RETRY_POLICY.receiveLimit,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  const deadLetterQueueUrl = dlq.QueueUrl as string;
  return {
    client,
    queueUrl,
    deadLetterQueueUrl,
    /** What a function needs to reach these queues through its lite client. */
    env: {
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SQS: endpoint,
      NOTIFICATION_QUEUE_URL: queueUrl,
      DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
    },
    /** Receives what is visible now (no wait). */
    receive: async (url: string, max = 10) =>
      (
        await client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
        )
      ).Messages ?? [],
  };
}

type SqsFixture = Awaited<ReturnType<typeof sqsFixture>>;

/**
 * Puts `bodies` on the queue (an object as JSON), then receives them as Lambda's event source
 * hands them over, in the order sent (a record's place says which body it holds).
 */
export async function batchOf(queue: SqsFixture, bodies: readonly unknown[]): Promise<SQSEvent> {
  const ids: string[] = [];
  for (const body of bodies) {
    const sent = await queue.client.send(
      new SendMessageCommand({
        QueueUrl: queue.queueUrl,
        MessageBody: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
    ids.push(sent.MessageId as string);
  }
  const received = [];
  for (let tries = 0; received.length < bodies.length && tries < 10; tries++) {
    received.push(...(await queue.receive(queue.queueUrl)));
  }
  received.sort((a, b) => ids.indexOf(a.MessageId as string) - ids.indexOf(b.MessageId as string));
  const now = String(Date.now());
  return {
    Records: received.map((m) => ({
      messageId: m.MessageId as string,
      receiptHandle: m.ReceiptHandle as string,
      body: m.Body as string,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: now,
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:notifications",
      awsRegion: "us-east-1",
    })),
  };
}
