/**
 * A dead letter is the record's body and its reason's attributes, and SQS counts both against the
 * dead-letter queue's maximum. (moto counts only the body, so this is checked here, by SQS's rule.)
 */
import { describe, expect, it } from "vitest";
import {
  DEAD_LETTER_MAX_BYTES,
  deadLetterMessage,
  messageBytes,
  NOTIFICATION_MAX_BYTES,
} from "../../../lib/aws-sqs/index.ts";

/** The largest record the notification queue takes, failed with the longest reason a letter carries. */
const largest = {
  id: "5140d4fc-aee2-4190-a57b-eb6c0b17a9fa",
  body: "é".repeat(NOTIFICATION_MAX_BYTES / 2),
  receiveCount: 100,
  code: "InvalidNotification",
  reason: `Invalid notification: ${"html: too deeply nested; ".repeat(400)}`,
};

describe("a dead letter's size", () => {
  it("counts the body's bytes, and each attribute's name, type and value", () => {
    const letter = deadLetterMessage({ ...largest, body: "héllo", reason: "r", code: "C" });
    const attributes = [
      "FailureReason",
      "String",
      "r",
      "FailureCode",
      "String",
      "C",
      "ReceiveCount",
      "Number",
      "100",
    ];
    const source = ["SourceMessageId", "String", largest.id];
    expect(messageBytes(letter)).toBe(6 + [...attributes, ...source].join("").length);
  });

  it("of the largest record, with the longest reason, is over the notification queue's maximum but within the dead-letter queue's", () => {
    const letter = deadLetterMessage(largest);
    expect(Buffer.byteLength(letter.MessageBody)).toBe(NOTIFICATION_MAX_BYTES);
    expect(messageBytes(letter)).toBeGreaterThan(NOTIFICATION_MAX_BYTES); // a queue of the same size refuses it
    expect(messageBytes(letter)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(messageBytes(letter) - NOTIFICATION_MAX_BYTES).toBeLessThan(1_200); // the reason is kept short
  });
});
