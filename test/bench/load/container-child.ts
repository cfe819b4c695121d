/**
 * One Lambda container, in a process of its own (forked by containers.ts): it imports the
 * deployed bundle once (init: the entry starts the cold start's I/O), then serves invocations one
 * at a time over IPC, for as long as the poller keeps it, as a warm Lambda sandbox does. Its
 * environment is the function's and nothing else; its stdout is the function's log.
 *
 * argv: <path of the bundle's index.mjs>.
 * In: { type: "invoke", id, event, timeoutMs, requestId }.
 * Out: { type: "ready", initMs } once, then { type: "done", id, response? | error?, ms } per invoke.
 */
import { pathToFileURL } from "node:url";

interface InvokeMessage {
  type: "invoke";
  id: number;
  event: unknown;
  timeoutMs: number;
  requestId: string;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const send = (message: object) => process.send?.(message);
// The poller went away: a sandbox is never left behind.
process.on("disconnect", () => process.exit(0));

const bundle = process.argv[2];
if (!bundle) throw new Error("usage: container-child.ts <bundle index.mjs>");
const initStarted = performance.now();
let handler: Handler;
try {
  handler = ((await import(pathToFileURL(bundle).href)) as { handler: Handler }).handler;
} catch (error) {
  send({ type: "init-error", error: String((error as Error)?.stack ?? error) });
  process.exit(1);
}
send({ type: "ready", initMs: performance.now() - initStarted });

const functionName = "send-notification";
let queue: Promise<void> = Promise.resolve();

async function serve(message: InvokeMessage): Promise<void> {
  const started = performance.now();
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "128",
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `load/[$LATEST]${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const response = await handler(message.event, context);
    send({ type: "done", id: message.id, response, ms: performance.now() - started });
  } catch (error) {
    send({
      type: "done",
      id: message.id,
      error: String((error as Error)?.message ?? error),
      ms: performance.now() - started,
    });
  }
}

process.on("message", (message: InvokeMessage) => {
  if (message?.type !== "invoke") return;
  // One at a time, as a sandbox serves them.
  queue = queue.then(() => serve(message));
});
