/**
 * What becomes of a record that was not sent, decided from why: tried again later with a
 * back-off, or put on the dead-letter queue at once because no retry can help. Retrying a message
 * the provider refused for good only adds rejections to the sender's reputation.
 */
import { InvalidMessageError, NotStartedError, SmtpStageError } from "../smtp/index.ts";

export type Outcome =
  /** A rate or connection limit: slow down, and bring this record back after its back-off. */
  | { kind: "throttled"; error: SmtpStageError }
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

export function outcomeOf(error: unknown): Outcome {
  if (error instanceof SmtpStageError) {
    if (error.throttle) return { kind: "throttled", error };
    if (!error.transient && MESSAGE_STAGES.has(error.stage)) {
      return { kind: "dead", code: error.code, reason: error.message };
    }
    return { kind: "retry", error, backOff: true };
  }
  if (error instanceof InvalidMessageError) return { kind: "dead", code: error.name, reason: error.message };
  if (error instanceof NotStartedError) return { kind: "retry", error, backOff: error.afterThrottle };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: "retry", error: e, backOff: true };
}
