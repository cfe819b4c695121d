import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import {
  composeMessage,
  InvalidMessageError,
  MESSAGE_LIMITS,
  parseOutgoingMessage,
} from "../../../lib/smtp/index.ts";
import { message, settings } from "./fixtures.ts";

function issuesOf(input: unknown): string[] {
  try {
    parseOutgoingMessage(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError);
    return [...(error as InvalidMessageError).issues];
  }
  throw new Error("expected InvalidMessageError");
}

describe("the message model", () => {
  it("accepts a minimal message", () => {
    expect(parseOutgoingMessage(message)).toEqual(message);
  });

  it.each([
    [{ ...message, to: "a@example.com, b@example.com" }, /^to: must be an email address/],
    [{ ...message, to: "not-an-address" }, /^to: must be an email address/],
    [{ ...message, subject: "Hi\r\nBcc: victim@example.com" }, /^subject: must not contain line breaks/],
    [{ ...message, subject: "" }, /^subject: must not be empty/],
    [{ ...message, subject: "x".repeat(MESSAGE_LIMITS.subjectChars + 1) }, /^subject: must be at most 998/],
    [{ ...message, category: "a\nb" }, /^category: must not contain line breaks/],
    [{ ...message, messageId: "<a@b>\r\nX-Evil: 1" }, /^messageId: /],
    [{ ...message, messageId: "no-at-sign" }, /^messageId: must look like <local@domain>/],
    [{ ...message, replyTo: "x@example.com\n" }, /^replyTo: /],
    [{ ...message, cc: ["ok@example.com", "bad"] }, /^cc\.1: must be an email address/],
    [
      { ...message, text: "é".repeat(MESSAGE_LIMITS.textBytes / 2 + 1) },
      /^text: must be at most 1048576 bytes/,
    ],
    [{ to: "u@example.com", subject: "s" }, /^text: text or html is required/],
    [{ ...message, from: "spoof@example.com" }, /Unrecognized key/],
    [
      { ...message, bcc: Array.from({ length: 51 }, (_, i) => `b${i}@example.com`) },
      /^cc: cc and bcc together may hold at most 50/,
    ],
  ])("rejects %#, naming the field and rule", (input, rule) => {
    const issues = issuesOf(input);
    expect(
      issues.some((i) => rule.test(i)),
      issues.join(" | "),
    ).toBe(true);
  });

  it("lists every broken rule", () => {
    expect(issuesOf({ to: "x", subject: "" })).toHaveLength(3);
  });
});

describe("composeMessage", () => {
  it("uses FeedbackName <FeedbackEmail>, ReplyToAddress, and the reference's automatic-mail headers", async () => {
    const s = settings({
      FeedbackName: "Chat",
      FeedbackEmail: "noreply@chat.example",
      ReplyToAddress: "help@chat.example",
    });
    const composed = await composeMessage(s, message, { now: new Date("2026-01-02T03:04:05Z") });
    expect(composed.envelope).toEqual({ from: "noreply@chat.example", to: ["user@example.com"] });
    expect(composed.messageId).toMatch(/^<[0-9a-f-]{36}@chat\.example>$/);
    const parsed = await simpleParser(composed.raw);
    expect(parsed.from?.text).toBe('"Chat" <noreply@chat.example>');
    expect(parsed.replyTo?.value).toEqual([{ name: "Chat", address: "help@chat.example" }]);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(parsed.headers.get("precedence")).toBe("bulk");
    expect(parsed.date?.toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(parsed.text?.trim()).toBe("Plain body");
    expect(parsed.html).toBe(false);
  });

  it("sends no Reply-To when ReplyToAddress is empty, and the message's replyTo wins when given", async () => {
    const none = await simpleParser((await composeMessage(settings({ ReplyToAddress: "" }), message)).raw);
    expect(none.replyTo).toBeUndefined();
    const own = await simpleParser(
      (await composeMessage(settings({}), { ...message, replyTo: "thread@example.com" })).raw,
    );
    expect(own.replyTo?.value[0]?.address).toBe("thread@example.com");
  });

  it("keeps a caller's Message-ID, adding brackets", async () => {
    const composed = await composeMessage(settings({}), { ...message, messageId: "sqs-1@example.com" });
    expect(composed.messageId).toBe("<sqs-1@example.com>");
    expect((await simpleParser(composed.raw)).messageId).toBe("<sqs-1@example.com>");
  });

  it("derives the text part from the HTML when only HTML is given", async () => {
    const composed = await composeMessage(settings({}), {
      to: "user@example.com",
      subject: "Hi",
      html: '<p>Caf&eacute; at 4&nbsp;pm &#8212; <a href="https://x.example/a">details</a></p>',
    });
    const parsed = await simpleParser(composed.raw);
    expect(parsed.text?.trim()).toBe("Café at 4 pm — details (https://x.example/a)");
    expect(parsed.html).toContain("<a href=");
  });

  it("validates before composing", async () => {
    await expect(composeMessage(settings({}), { ...message, to: "x" } as never)).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
  });
});
