/**
 * A dead letter is the record's body and its reason's attributes, and SQS counts both against the
 * dead-letter queue's maximum. (moto counts only the body, so this is checked here, by SQS's rule.)
 */
import { describe, expect, it } from "vitest";
import {
  DEAD_LETTER_ATTRIBUTES_MAX_BYTES,
  DEAD_LETTER_MAX_BYTES,
  deadLetterMessage,
  type MessageToSend,
  NOTIFICATION_MAX_BYTES,
} from "../../../lib/aws-sqs/index.ts";

/** A message's size as SQS counts it against a queue's maximum: the body, and each attribute's name, type and value. */
function messageBytes(message: MessageToSend): number {
  let bytes = Buffer.byteLength(message.MessageBody);
  for (const [name, { DataType, StringValue }] of Object.entries(message.MessageAttributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(DataType) + Buffer.byteLength(StringValue);
  }
  return bytes;
}

const ID = "5140d4fc-aee2-4190-a57b-eb6c0b17a9fa";

/** The largest record the notification queue takes, failed with reasons as long and as wide as they come. */
const largest = {
  id: `${ID}-${"x".repeat(2000)}`,
  body: "€"
    .repeat(NOTIFICATION_MAX_BYTES / 3)
    .padEnd(NOTIFICATION_MAX_BYTES - (NOTIFICATION_MAX_BYTES / 3) * 2, "x"),
  receiveCount: 100,
  code: "É".repeat(2000),
  // Three bytes a character (a reason quoting a body's unknown key, say).
  reason: `Invalid notification: ${"不明な項目".repeat(1000)}`,
};

describe("a dead letter's size", () => {
  it("counts the body's bytes, and each attribute's name, type and value", () => {
    const letter = deadLetterMessage({ id: ID, body: "héllo", receiveCount: 100, reason: "r", code: "C" });
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
    const source = ["SourceMessageId", "String", ID];
    expect(messageBytes(letter)).toBe(6 + [...attributes, ...source].join("").length);
  });

  it("cuts a long reason at 1,000 bytes, between characters", () => {
    const reason = deadLetterMessage(largest).MessageAttributes.FailureReason?.StringValue ?? "";
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(1000);
    expect(Buffer.byteLength(reason)).toBeGreaterThan(997);
    expect(largest.reason.startsWith(reason)).toBe(true);
    expect(reason).not.toContain("\uFFFD");
  });

  it("of the largest record, with the widest reason, fits the dead-letter queue, though a queue of the record's size would refuse it", () => {
    const letter = deadLetterMessage(largest);
    expect(Buffer.byteLength(letter.MessageBody)).toBe(NOTIFICATION_MAX_BYTES);
    expect(messageBytes(letter) - NOTIFICATION_MAX_BYTES).toBeLessThanOrEqual(
      DEAD_LETTER_ATTRIBUTES_MAX_BYTES,
    );
    expect(messageBytes(letter)).toBeLessThanOrEqual(DEAD_LETTER_MAX_BYTES);
    expect(messageBytes(letter)).toBeGreaterThan(NOTIFICATION_MAX_BYTES);
  });
});
