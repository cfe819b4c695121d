/**
 * What send-notification asks of its queue beyond the partial batch response: to delete a record
 * as soon as the server has accepted it (so a crash later in the batch cannot send it again), to
 * hold the batch's other records for a short while at a time (so a crashed batch's unsent records
 * come back in a minute, not after the queue's visibility timeout), to bring a record back later
 * than the queue's visibility timeout would (a back-off after a throttle), and to move a record
 * that can never succeed to the dead-letter queue at once, with the reason, instead of trying it
 * against the provider again and again. SQS in AWS (lib/aws-sqs), the in-process queue locally
 * (local/queue.ts).
 */
export interface RetryLater {
  /** The SQS message id. */
  id: string;
  /** The receipt handle of this receive. */
  receiptHandle: string;
  /** Seconds until the record is visible again (SQS allows 0 to 43,200). */
  delaySeconds: number;
}

export interface DeadLetter {
  id: string;
  /** The record's body, as received. */
  body: string;
  /** How many times it was received, this one included. */
  receiveCount: number;
  /** Why it can never succeed: one line for the operator, kept on the dead-lettered record. */
  reason: string;
  /** A stable code (InvalidNotification, SmtpStageError's code…). */
  code: string;
}

/** A record of this receive, as the queue knows it. */
export interface Received {
  /** The SQS message id. */
  id: string;
  /** The receipt handle of this receive. */
  receiptHandle: string;
}

/** How long one call to the queue may take in all: the invocation's time left decides it. */
export interface CallOptions {
  /** Default: the client's own timeout. */
  timeoutMs?: number;
}

export interface QueueControl {
  /** Changes each record's visibility; a record whose change failed is reported back by id. */
  retryLater(items: readonly RetryLater[], options?: CallOptions): Promise<{ failed: string[] }>;
  /** Puts the record on the dead-letter queue with its reason; the caller then acknowledges it. */
  deadLetter(item: DeadLetter, options?: CallOptions): Promise<void>;
  /**
   * Keeps records of the running batch invisible for `seconds` from now (ChangeMessageVisibility,
   * as retryLater, but never scaled: the local queue compresses back-offs, not holds).
   */
  hold(items: readonly Received[], seconds: number, options?: CallOptions): Promise<{ failed: string[] }>;
  /**
   * Deletes records the server has accepted (DeleteMessageBatch), before the batch ends; a record
   * whose delete failed is reported back by id (the batch response then acknowledges it).
   */
  acknowledge(items: readonly Received[], options?: CallOptions): Promise<{ failed: string[] }>;
}
