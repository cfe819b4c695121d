/**
 * What the local queue is told (LocalQueueOptions), and the checked configuration it runs with:
 * each option's default, and a refusal of any that is negative, not a number, or not whole.
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { RETRY_POLICY } from "../lib/notifications/backoff.ts";
import type { DeadLetterEntry } from "./dead-letter-list.ts";

export interface LocalQueueOptions {
  /** The function: called once per batch, up to `maxConcurrency` calls at once. */
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** A fresh Lambda context for each invocation. */
  context: () => Context;
  /** How long a received record stays invisible. Default 30 s. */
  visibilityTimeoutMs?: number;
  /** Receives after which a record that is still not acknowledged is dead-lettered. Default RETRY_POLICY.receiveLimit. */
  maxReceiveCount?: number;
  /** Records per invocation at most. Default 10. */
  batchSize?: number;
  /** How long a send waits for others to join its batch. Default 20 ms. */
  batchWindowMs?: number;
  /** Invocations in flight at once at most. Default 2 (the deployed event source's minimum). */
  maxConcurrency?: number;
  /** retryLater's delays are multiplied by this (0.1: a 30 s back-off takes 3 s). Default 1. */
  delayScale?: number;
  /** Told about each record that moves to the dead-letter list. */
  onDeadLetter?: (letter: DeadLetterEntry) => void;
  /** Told when an invocation throws (its whole batch comes back after the visibility timeout). */
  onInvocationError?: (error: unknown) => void;
}

export interface LocalQueueConfig {
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  batchSize: number;
  batchWindowMs: number;
  maxConcurrency: number;
  delayScale: number;
}

/** The options' config, defaults filled in; throws for a value out of range. */
export function queueConfig(options: LocalQueueOptions): LocalQueueConfig {
  const config: LocalQueueConfig = {
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    maxReceiveCount: options.maxReceiveCount ?? RETRY_POLICY.receiveLimit,
    batchSize: options.batchSize ?? 10,
    batchWindowMs: options.batchWindowMs ?? 20,
    maxConcurrency: options.maxConcurrency ?? 2,
    delayScale: options.delayScale ?? 1,
  };
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`local queue: ${name} must be a number ≥ 0`);
  }
  for (const name of ["maxReceiveCount", "batchSize", "maxConcurrency"] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 1) {
      throw new Error(`local queue: ${name} must be a whole number ≥ 1`);
    }
  }
  return config;
}
