/**
 * The SQS event Lambda builds for a batch, and how Lambda reads the function's answer (a partial
 * batch response): for the load test's poller (poller.ts).
 */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { InvocationResult } from "./containers.ts";

function lambdaAttributes(values: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(values ?? {})) {
    out[name] = {
      dataType: value.DataType ?? "String",
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }
        : {}),
    };
  }
  return out;
}

/** The record Lambda puts in the event for one received message. */
export function toLambdaRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? "",
      SenderId: a.SenderId ?? "",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? "",
    } as SQSRecordAttributes,
    messageAttributes: lambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The records SQS keeps after an invocation, as Lambda reads a partial batch response. */
export function failedIds(
  records: readonly SQSRecord[],
  result: InvocationResult,
): { failed: Set<string>; rejected: boolean } {
  const all = new Set(records.map((r) => r.messageId));
  if (result.outcome !== "ok") return { failed: all, rejected: false };
  const failures = result.response?.batchItemFailures ?? [];
  const failed = new Set<string>();
  for (const f of failures) {
    // An empty or unknown identifier makes Lambda treat the whole batch as failed.
    if (!f.itemIdentifier || !all.has(f.itemIdentifier)) return { failed: all, rejected: true };
    failed.add(f.itemIdentifier);
  }
  return { failed, rejected: false };
}
