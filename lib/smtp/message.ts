/**
 * The message model: what a caller may ask to send, validated before anything touches a
 * socket, and its composition into RFC 5322 bytes with the reference server's headers.
 */
import MailComposer from "nodemailer/lib/mail-composer";
import * as z from "zod/mini";
import { isPlainObject } from "../json.ts";
import type { EmailSettings } from "../settings/index.ts";
import { describeIssues } from "../zod.ts";
import { InvalidMessageError } from "./errors.ts";
import { htmlToText } from "./html-to-text.ts";

/** Limits that keep one message well inside common MTA and Lambda payload limits. */
export const MESSAGE_LIMITS = {
  subjectChars: 998,
  textBytes: 1024 * 1024,
  htmlBytes: 1024 * 1024,
  /** cc + bcc addresses. */
  extraRecipients: 50,
  headerValueChars: 256,
} as const;

const NO_LINE_BREAKS = /^[^\r\n\0]*$/;
const LINE_BREAKS_RULE = "must not contain line breaks";
const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** "is required" for a missing field, the rule for a wrong one. */
const required = (rule: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : rule),
});
const address = z
  .email(required("must be an email address"))
  .check(z.regex(NO_LINE_BREAKS, LINE_BREAKS_RULE));
const headerValue = (...checks: Parameters<ReturnType<typeof z.string>["check"]>) =>
  z
    .string()
    .check(
      z.maxLength(
        MESSAGE_LIMITS.headerValueChars,
        `must be at most ${MESSAGE_LIMITS.headerValueChars} characters`,
      ),
      z.regex(NO_LINE_BREAKS, LINE_BREAKS_RULE),
      ...checks,
    );
const body = (limit: number) =>
  z.optional(z.string().check(z.refine((s: string) => bytes(s) <= limit, `must be at most ${limit} bytes`)));
const isObject = ({ value }: { value: unknown }) => isPlainObject(value);

export const OutgoingMessageSchema = z
  .strictObject({
    /** Exactly one address, as the reference sends. */
    to: address,
    cc: z.optional(z.array(address)),
    bcc: z.optional(z.array(address)),
    subject: z
      .string(required("must be a string"))
      .check(
        z.minLength(1, "must not be empty"),
        z.maxLength(MESSAGE_LIMITS.subjectChars, `must be at most ${MESSAGE_LIMITS.subjectChars} characters`),
        z.regex(NO_LINE_BREAKS, LINE_BREAKS_RULE),
      ),
    text: body(MESSAGE_LIMITS.textBytes),
    html: body(MESSAGE_LIMITS.htmlBytes),
    /** Overrides ReplyToAddress for this message. */
    replyTo: z.optional(address),
    /** `<id@domain>` (brackets optional). Generated when absent. */
    messageId: z.optional(headerValue(z.regex(/^<?[^<>\s@]+@[^<>\s@]+>?$/, "must look like <local@domain>"))),
    /** Free label for filtering, sent as X-Category. */
    category: z.optional(headerValue()),
  })
  // `when`: checked even when other fields are wrong, so one report lists every rule broken.
  .check(
    z.refine((m: { text?: string; html?: string }) => m.text !== undefined || m.html !== undefined, {
      message: "text or html is required",
      path: ["text"],
      when: isObject,
    }),
    z.refine(
      (m: { cc?: string[]; bcc?: string[] }) =>
        (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) <= MESSAGE_LIMITS.extraRecipients,
      {
        message: `cc and bcc together may hold at most ${MESSAGE_LIMITS.extraRecipients} addresses`,
        path: ["cc"],
        when: isObject,
      },
    ),
  );

export type OutgoingMessage = z.infer<typeof OutgoingMessageSchema>;

export function parseOutgoingMessage(input: unknown): OutgoingMessage {
  const parsed = OutgoingMessageSchema.safeParse(input);
  if (!parsed.success) throw new InvalidMessageError(describeIssues(parsed.error));
  return parsed.data;
}

export interface ComposedMessage {
  envelope: { from: string; to: string[] };
  messageId: string;
  raw: Buffer;
}

const bracketed = (id: string) => (id.startsWith("<") ? id : `<${id}>`);

/**
 * From is `FeedbackName <FeedbackEmail>`, Reply-To is the message's replyTo or ReplyToAddress
 * (with FeedbackName), plus `Auto-Submitted: auto-generated` and `Precedence: bulk` as the
 * reference sends them. UTF-8 throughout; non-ASCII subjects and names are RFC 2047-encoded.
 */
export async function composeMessage(
  settings: EmailSettings,
  input: OutgoingMessage,
  { now = new Date() }: { now?: Date } = {},
): Promise<ComposedMessage> {
  const message = parseOutgoingMessage(input);
  const from = { name: settings.FeedbackName, address: settings.FeedbackEmail };
  const replyTo = message.replyTo ?? settings.ReplyToAddress;
  const domain = settings.FeedbackEmail.split("@")[1] ?? "localhost";
  const messageId = bracketed(message.messageId ?? `${crypto.randomUUID()}@${domain}`);
  const composer = new MailComposer({
    from,
    to: message.to,
    ...(message.cc?.length ? { cc: message.cc } : {}),
    ...(message.bcc?.length ? { bcc: message.bcc } : {}),
    ...(replyTo ? { replyTo: { name: settings.FeedbackName, address: replyTo } } : {}),
    subject: message.subject,
    // The converter is loaded only here: a message with HTML and no text.
    text: message.text ?? (await htmlToText(message.html ?? "")),
    ...(message.html === undefined ? {} : { html: message.html }),
    messageId,
    date: now,
    headers: {
      "Auto-Submitted": "auto-generated",
      Precedence: "bulk",
      ...(message.category ? { "X-Category": message.category } : {}),
    },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  const envelope = node.getEnvelope();
  const raw = await node.build();
  return {
    envelope: { from: envelope.from || settings.FeedbackEmail, to: envelope.to },
    messageId,
    raw,
  };
}
