/**
 * How a batch spends the invocation's time: sends start only while one session and one send still
 * fit, and the SMTP timeout of a batch is SMTPServerTimeout unless the invocation is too short for
 * it (an operator raised it without redeploying: the function's timeout is sized at deploy time
 * from the value then, infra/sizing.ts). Pure arithmetic, shared by send-notification and by
 * `mm-email settings set`, which warns before such a value is stored.
 */

/** Kept back after the last send: the queue calls that follow it (deletes, back-offs, dead letters) and the report. */
export const AFTER_SEND_RESERVE_MS = 3000;

/**
 * Sends may start while this much time is left: one session open and one send, each bounded by
 * the batch's SMTP timeout, plus the queue calls after them. Later records come back after their back-off.
 */
export function sendReserveMs(smtpTimeoutSeconds: number): number {
  return 2 * smtpTimeoutSeconds * 1000 + AFTER_SEND_RESERVE_MS;
}

/**
 * The batch's SMTP timeout: SMTPServerTimeout, unless the invocation has too little time for one
 * session and one send bounded by it; then each stage gets its share of the time left, so sends
 * still start, and no record spends its receives in seconds.
 */
export function batchSmtpTimeoutSeconds(smtpTimeoutSeconds: number, timeLeftMs: number): number {
  const fits = Math.floor((timeLeftMs - AFTER_SEND_RESERVE_MS) / 2000);
  return Math.max(1, Math.min(smtpTimeoutSeconds, fits));
}
