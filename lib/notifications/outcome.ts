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
  /** Worth another try later: a 4xx, a timeout, a reset, or settings an operator can fix. */
  | { kind: "retry"; error: Error; backOff: boolean }
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
 * size (5.3.4) or its content (5.6.x); a refusal with no enhanced code is taken at its stage's word.
 * Security or policy (5.7.x: relaying denied, Send As denied, the sender not allowed), the network
 * (5.4.x) and the protocol (5.5.x: an EHLO name a strict relay refuses) are the settings' fault,
 * whichever command they answered: every message would meet them.
 */
function refusesTheMessage(response: string | undefined): boolean {
  const enhanced = /^\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response ?? "");
  if (!enhanced) return true;
  const [, , subject, detail] = enhanced;
  return subject === "1" || subject === "2" || subject === "6" || (subject === "3" && detail === "4");
}

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof SmtpStageError) {
    if (error.quota) return { kind: "quota", error };
    if (error.throttle) return { kind: "throttled", error };
    if (!error.transient && MESSAGE_STAGES.has(error.stage) && refusesTheMessage(error.response)) {
      return { kind: "dead", code: error.code, reason: error.message };
    }
    return { kind: "retry", error, backOff: true };
  }
  if (error instanceof InvalidMessageError) return { kind: "dead", code: error.name, reason: error.message };
  if (error instanceof NotStartedError) {
    return error.afterQuota
      ? { kind: "quota", error }
      : { kind: "retry", error, backOff: error.afterThrottle };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: "retry", error: e, backOff: true };
}
