/** Parses and validates every SQS record's body into a notification, or the rules it broke. */
import type { MiddlewareObj } from "@middy/core";
import type { SQSEvent } from "aws-lambda";
import { type NotificationRecord, parseNotificationBody } from "../../lib/notifications/index.ts";

export type RecordsContext = { records: NotificationRecord[] };

export function sqsNotifications<TContext extends object>(): MiddlewareObj<
  SQSEvent,
  unknown,
  Error,
  TContext & RecordsContext
> {
  return {
    name: "sqsNotifications",
    before(request) {
      request.context.records = request.event.Records.map((record) => ({
        id: record.messageId,
        receiptHandle: record.receiptHandle,
        body: record.body,
        receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
        parsed: parseNotificationBody(record.body),
      }));
    },
  };
}
