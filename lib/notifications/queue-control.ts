/**
 * What send-notification asks of its queue beyond the partial batch response: to bring a record
 * back later than the queue's visibility timeout would (a back-off after a throttle), and to
 * move a record that can never succeed to the dead-letter queue at once, with the reason, instead
 * of trying it against the provider again and again. SQS in AWS (lib/aws-sqs), the in-process
 * queue locally (local/queue.ts).
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

export interface QueueControl {
  /** Changes each record's visibility; a record whose change failed is reported back by id. */
  retryLater(items: readonly RetryLater[]): Promise<{ failed: string[] }>;
  /** Puts the record on the dead-letter queue with its reason; the caller then acknowledges it. */
  deadLetter(item: DeadLetter): Promise<void>;
}
