/** The notification queue and its dead-letter queue in the run's moto_server, as the stack makes them. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
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
