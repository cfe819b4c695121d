/**
 * One notification batch's report, as send-notification's handler passes it to deliveryMetrics
 * (lib/notifications/metrics.ts): ten records over one new SMTP session, four accepted and one of
 * every other outcome, so that the line carries every metric a batch can publish (a count of 0 is
 * left out): 7 counts and 3 latency lists.
 */
import type { DeliveryReport } from "../../../lib/notifications/deliver.ts";

export const BATCH_REPORT: DeliveryReport = {
  failed: ["record-5", "record-6", "record-7", "record-8"],
  timings: {
    eventToAcceptedMs: [412, 431, 447, 460],
    transactionMs: [14, 12, 13, 15],
    sessionSetupMs: [183],
  },
  counts: {
    sent: 4,
    skipped: 0,
    invalid: 1,
    transient: 1,
    permanent: 1,
    throttled: 1,
    quota: 1,
    settings: 1,
    retriedInBatch: 0,
    deadLettered: 2,
  },
};

/** The function's physical name, as Lambda sets AWS_LAMBDA_FUNCTION_NAME. */
export const functionName = (): string => process.env.AWS_LAMBDA_FUNCTION_NAME ?? "send-notification";
