/**
 * send-notification in a process of its own, so a test can kill it mid-batch as an out-of-memory
 * or a crashed runtime ends a Lambda container: one invocation of the real handler with the event
 * and the visibility hold given as JSON in argv[2], its environment the function's. Prints
 * `done` when the invocation returns (a killed one never does).
 */
import { createHandler } from "../../functions/send-notification.ts";
import { lambdaContext } from "./lambda.ts";

const { event, hold } = JSON.parse(process.argv[2] ?? "{}");
const handler = createHandler({ hold });
await handler(event, { ...lambdaContext("send-notification"), getRemainingTimeInMillis: () => 120_000 });
process.stdout.write("done\n");
