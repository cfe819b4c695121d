/**
 * Checks that the event is an SQS batch (Lambda's event source delivers one; a direct invocation
 * may not), then parses and validates every record's body into a notification, or the rules it
 * broke. An event that is not a batch, or a record without the fields partial batch responses
 * need, is an InvalidEventError naming what is wrong: nothing is sent, and nothing is reported as
 * failed under a made-up id.
 */
import type { MiddlewareObj } from "@middy/core";
import type { SQSEvent } from "aws-lambda";
import { isPlainObject } from "../../lib/json.ts";
import { type NotificationRecord, parseNotificationBody } from "../../lib/notifications/index.ts";

export type RecordsContext = { records: NotificationRecord[] };

/** The event is not an SQS batch this function can answer for. Stable name: `InvalidEventError`. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
}

function recordsOf(event: unknown): NotificationRecord[] {
  if (!isPlainObject(event) || !Array.isArray(event.Records)) {
    throw new InvalidEventError(
      `Invalid event: expected an SQS batch, an object with a Records array; got ${event === null ? "null" : Array.isArray(event) ? "an array" : typeof event === "object" ? `an object with keys ${Object.keys(event).slice(0, 5).join(", ") || "(none)"}` : typeof event}`,
    );
  }
  return event.Records.map((record: unknown, i: number) => {
    const problems: string[] = [];
    if (!isPlainObject(record)) throw new InvalidEventError(`Invalid event: Records[${i}] is not an object`);
    if (typeof record.messageId !== "string" || record.messageId === "")
      problems.push("messageId must be a non-empty string");
    if (typeof record.body !== "string") problems.push("body must be a string");
    if (problems.length) throw new InvalidEventError(`Invalid event: Records[${i}]: ${problems.join("; ")}`);
    const attributes = isPlainObject(record.attributes) ? record.attributes : {};
    const body = record.body as string;
    return {
      id: record.messageId as string,
      receiptHandle: typeof record.receiptHandle === "string" ? record.receiptHandle : "",
      body,
      receiveCount: Number(attributes.ApproximateReceiveCount ?? 1) || 1,
      ...(Number(attributes.SentTimestamp) > 0 ? { sentAtMs: Number(attributes.SentTimestamp) } : {}),
      parsed: parseNotificationBody(body),
    };
  });
}

export function sqsNotifications<TContext extends object>(): MiddlewareObj<
  SQSEvent,
  unknown,
  Error,
  TContext & RecordsContext
> {
  return {
    name: "sqsNotifications",
    before(request) {
      request.context.records = recordsOf(request.event);
    },
  };
}
