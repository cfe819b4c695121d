/**
 * A message as the local queue holds it, and what SQS makes of it: a new message's id and MD5,
 * each receive's receipt handle, and the SQSRecord a receive hands the function.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SQSRecord } from "aws-lambda";

export interface QueuedMessage {
  messageId: string;
  body: string;
  md5: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  visibleAt: number;
  /** The latest receive's handle: the only one that counts. */
  receiptHandle?: string;
  /** An invocation holding the latest receipt handle is running. */
  handling: boolean;
}

/** SendMessage's message: a new id, visible at once, never received. */
export function newMessage(body: string, now: number): QueuedMessage {
  return {
    messageId: randomUUID(),
    body,
    md5: createHash("md5").update(body).digest("hex"),
    sentAt: now,
    receiveCount: 0,
    visibleAt: now,
    handling: false,
  };
}

/** A receipt handle for the message's latest receive (its receiveCount already counts it): unique to that receive. */
export function newReceiptHandle(m: QueuedMessage): string {
  return Buffer.from(`${m.messageId}#${m.receiveCount}#${randomUUID()}`).toString("base64url");
}

/** The record one receive of `m` hands the function. */
export function toSqsRecord(m: QueuedMessage, receiptHandle: string): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
    },
    messageAttributes: {},
    md5OfBody: m.md5,
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:local:000000000000:notifications",
    awsRegion: "local",
  };
}
