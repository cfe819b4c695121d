/**
 * What becomes of a record that was not sent, decided from why: tried again later with a
 * back-off, or put on the dead-letter queue at once because no retry can help. Retrying a message
 * the provider refused for good only adds rejections to the sender's reputation.
 */
import { InvalidMessageError, NotStartedError, SmtpStageError } from "../smtp/index.ts";

export type Outcome =
  /** A rate or connection limit: slow down, and bring this record back after its back-off. */
  | { kind: "throttled"; error: SmtpStageError }
  /** A daily quota is spent: bring this record back once it can have reset, not within minutes. */
  | { kind: "quota"; error: Error }
  /** Refused for good because of the settings (relay, sender, sign-in, policy): back after its back-off, and the operator told. */
  | { kind: "settings"; error: SmtpStageError; code: string }
  /** Worth another try later: a 4xx, a timeout, a reset, a send that never started. */
  | { kind: "retry"; error: Error }
  /** Can never succeed as it is: to the dead-letter queue now, with the reason. */
  | { kind: "dead"; code: string; reason: string };

/**
 * Only the message itself can make a permanent refusal final: its recipient refused (RCPT, 5xx)
 * or its content refused (DATA, 5xx). A permanent refusal of the settings (authentication, the
 * sender, TLS, a host that does not resolve) is the operator's to fix, and the record succeeds
 * once they have: it is retried with back-off until the queue's receive limit.
 */
const MESSAGE_STAGES = new Set(["rcpt", "data"]);

/**
 * A refusal at RCPT or DATA is the message's when its enhanced status code says so: addressing
 * (5.1.x: no such user), the mailbox (5.2.x: full, or the message too big for it), the message's
 * size (5.3.4) or its content (5.6.x). Security or policy (5.7.x: relaying denied, Send As denied,
 * the sender not allowed), the network (5.4.x) and the protocol (5.5.x: an EHLO name a strict
 * relay refuses) are the settings' fault, whichever command they answered: every message would
 * meet them. A refusal with no enhanced code (`554 Relay access denied` from a relay without
 * ENHANCEDSTATUSCODES) is the message's only when its text says the recipient or the message is
 * the trouble; otherwise it is taken as the settings': retried, it costs a back-off, whereas
 * dead-lettered it would cost every message while the operator fixes the relay.
 */
function refusesTheMessage(response: string | undefined): boolean {
  // Not an SMTP reply (SES's API): the transport already said whose refusal it is, by its stage.
  if (!/^\d{3}\b/.test(response ?? "")) return true;
  const enhanced = /^\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response ?? "");
  if (!enhanced) return RECIPIENT_OR_CONTENT.test(response ?? "");
  const [, , subject, detail] = enhanced;
  return subject === "1" || subject === "2" || subject === "6" || (subject === "3" && detail === "4");
}

/** What a refusal without an enhanced code says when the recipient or the message is the trouble. */
const RECIPIENT_OR_CONTENT =
  /\b(user unknown|unknown user|no such (user|mailbox|recipient)|(recipient|mailbox|user|address)( address)? (unknown|not found|does not exist|unavailable|invalid|disabled)|invalid (recipient|mailbox|address)|mailbox (full|unavailable)|over ?quota|message (too (large|big)|size exceeds)|too (large|big)|content rejected|spam|virus)\b/i;

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof SmtpStageError) {
    if (error.quota) return { kind: "quota", error };
    if (error.throttle) return { kind: "throttled", error };
    if (!error.transient && MESSAGE_STAGES.has(error.stage) && refusesTheMessage(error.response)) {
      return { kind: "dead", code: error.code, reason: error.message };
    }
    // Refused for good, and not for the message: every message would meet it until the operator acts.
    if (!error.transient) return { kind: "settings", error, code: error.code };
    return { kind: "retry", error };
  }
  if (error instanceof InvalidMessageError) return { kind: "dead", code: error.name, reason: error.message };
  if (error instanceof NotStartedError && error.afterQuota) return { kind: "quota", error };
  // A send that never started backs off like any other: coming straight back, a record the
  // invocation cannot fit (an SMTPServerTimeout longer than the deployment allows) would spend its
  // receives in seconds.
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: "retry", error: e };
}
