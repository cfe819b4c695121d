/**
 * A Lambda-like entry publishing one batch's metrics as the product does: lib/metrics's
 * createMetricsPublisher (emf.ts, publisher.ts), one EMF line on stdout.
 */
import { createMetricsPublisher } from "../../../lib/metrics/index.ts";
import { deliveryMetrics } from "../../../lib/notifications/metrics.ts";
import { BATCH_REPORT, functionName } from "./batch.ts";

const publisher = createMetricsPublisher({
  functionName: functionName(),
  transport: "smtp",
  write: (line) => process.stdout.write(`${line}\n`),
});

export const handler = async () => {
  publisher.publish(deliveryMetrics(BATCH_REPORT));
  return { batchItemFailures: [] };
};
