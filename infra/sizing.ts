/**
 * How long each function may run, derived from SMTPServerTimeout (T, seconds): every SMTP step is
 * bounded by T, so a function's timeout is the worst case of its steps with room to spare, within
 * what Lambda (15 min) and what calls it (API Gateway's 30 s) allow. Pure arithmetic, apart from
 * CDK, so each rule has one home and a unit test (test/infra/sizing.test.ts).
 */

/** `n`, raised to `min` or lowered to `max`. */
export const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, n));

/** Lambda's longest timeout, in seconds. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * send-notification: a batch opens a session (T), then sends its messages over `poolSize`
 * connections, each message taking T at worst, with one T and 10 s to spare:
 * `T × (ceil(batchSize / poolSize) + 2) + 10`. With a share of the provider's rate
 * (`ratePerSecond`, infra/provider-limits.ts) the container may start a message only every
 * 1 / rate seconds, so the batch may instead take `2T + ceil(batchSize / rate) + 10` (a session,
 * the paced starts, the last send, 10 s to spare): the longer of the two, from 30 s to 900 s.
 */
export function sendNotificationTimeoutSeconds(
  T: number,
  batchSize: number,
  poolSize: number,
  ratePerSecond?: number,
): number {
  const perConnection = Math.ceil(batchSize / poolSize);
  const sending = T * (perConnection + 2) + 10;
  return clamp(
    Math.max(sending, pacedBatchSeconds(T, batchSize, ratePerSecond)),
    30,
    LAMBDA_MAX_TIMEOUT_SECONDS,
  );
}

/** A batch at `ratePerSecond`: `2T + ceil(batchSize / rate) + 10` (0 without a rate). */
export function pacedBatchSeconds(T: number, batchSize: number, ratePerSecond?: number): number {
  return ratePerSecond === undefined ? 0 : 2 * T + Math.ceil(batchSize / ratePerSecond) + 10;
}

/**
 * Whether a batch at the container's rate cannot be sent within Lambda's 15 minutes; the records
 * left are then retried (their receives count), so a smaller batch is better.
 */
export function pacedBatchOutlastsLambda(T: number, batchSize: number, ratePerSecond?: number): boolean {
  return pacedBatchSeconds(T, batchSize, ratePerSecond) > LAMBDA_MAX_TIMEOUT_SECONDS;
}

/** security-alert-check: `6T + 60`, from 60 s to 900 s (docs/deploy.md). */
export function alertCheckTimeoutSeconds(T: number): number {
  return clamp(T * 6 + 60, 60, LAMBDA_MAX_TIMEOUT_SECONDS);
}

/**
 * connection-test: 29 s whatever T, because API Gateway answers within 30 s; the endpoint's
 * integration uses the same timeout.
 */
export function connectionTestTimeoutSeconds(): number {
  return 29;
}

/**
 * Whether a connection test that waits for every stage (two operations bounded by T, and a second
 * of work) may outlast its timeout, with a second to answer: `2T + 1 > 29 - 1`.
 */
export function connectionTestMayOutlast(T: number): boolean {
  return 2 * T + 1 > connectionTestTimeoutSeconds() - 1;
}

/** SQS's longest visibility timeout, in seconds (12 hours). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * A Lambda event source's visibility timeout: the function's timeout, the least Lambda accepts.
 * AWS advises six times it, so that a batch Lambda received but could not invoke at once
 * (throttled) is not received again meanwhile; but it is also how long a batch waits after a
 * crash that came before the function could hold it (a container killed in its init): 13 minutes
 * at six times (load test d). A running batch holds its records itself, a minute at a time
 * (lib/notifications/in-flight.ts), and the stack's maximumConcurrency keeps Lambda from receiving
 * more than it can invoke.
 */
export function queueVisibilitySeconds(functionTimeoutSeconds: number): number {
  return Math.min(functionTimeoutSeconds, SQS_MAX_VISIBILITY_SECONDS);
}
