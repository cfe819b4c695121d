/**
 * The SQS queue control believes an answer only when it says what was done, against local HTTP
 * servers answering as a broken endpoint might: a dead-lettering counts only with SendMessage's
 * MessageId, and a batch entry only when the answer's Successful list names it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { liteJsonClient } from "../../../lib/aws/json-client.ts";
import { sqsQueueControl } from "../../../lib/aws-sqs/index.ts";
import { perTest } from "../../helpers/per-test.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";

const { defer, httpServer } = perTest();

interface Seen {
  target: string;
  body: { Entries?: Array<{ Id: string }> } & Record<string, unknown>;
}

/** A server answering every request with `answer(request)`; what it was sent. */
async function sqsServer(answer: (seen: Seen) => unknown) {
  const seen: Seen[] = [];
  const { url } = await httpServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const one = {
        target: String(req.headers["x-amz-target"]),
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      };
      seen.push(one);
      const out = answer(one);
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(typeof out === "string" ? out : JSON.stringify(out));
    });
  });
  return { url, seen };
}

const env = (url: string) => ({
  AWS_ACCESS_KEY_ID: "t",
  AWS_SECRET_ACCESS_KEY: "t",
  AWS_REGION: "us-east-1",
  AWS_ENDPOINT_URL_SQS: url,
});
const control = (url: string) =>
  sqsQueueControl({ queueUrl: "https://sqs/q", deadLetterQueueUrl: "https://sqs/dlq" }, env(url));

const letter = { id: "m-1", body: "{}", receiveCount: 1, reason: "bad", code: "InvalidNotification" };
const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `m-${i}`, receiptHandle: `rh-${i}`, delaySeconds: 30 }));
/** Every entry sent, by its batch Id. */
const ids = (seen: Seen) => (seen.body.Entries ?? []).map((e) => ({ Id: e.Id }));

describe("deadLetter", () => {
  it("succeeds when SendMessage answers a MessageId", async () => {
    const server = await sqsServer(() => ({ MessageId: "dl-1", MD5OfMessageBody: "x" }));
    await expect(control(server.url).deadLetter(letter)).resolves.toBeUndefined();
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]?.target).toBe("AmazonSQS.SendMessage");
  });

  const broken: Array<[what: string, answer: unknown]> = [
    ["null", "null"],
    ["an empty object", {}],
    ["an empty MessageId", { MessageId: "" }],
    ["a MessageId that is not a string", { MessageId: 7 }],
    ["an array", "[]"],
  ];
  it.each(broken)("fails when SendMessage answers %s, and does not send it twice", async (_what, answer) => {
    const server = await sqsServer(() => answer);
    const error = await control(server.url)
      .deadLetter(letter)
      .catch((e) => e);
    expect(error).toMatchObject({ name: "AwsResponseError", service: "sqs", operation: "SendMessage" });
    expect(server.seen).toHaveLength(1);
  });

  it("gives up at the caller's deadline", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const started = performance.now();
    const error = await control(`http://127.0.0.1:${silent.port}`)
      .deadLetter(letter, { timeoutMs: 300 })
      .catch((e) => e);
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});

describe.each([
  ["retryLater", "ChangeMessageVisibilityBatch"],
  ["hold", "ChangeMessageVisibilityBatch"],
  ["acknowledge", "DeleteMessageBatch"],
] as const)("%s (%s)", (method, operation) => {
  const run = (url: string, items: ReturnType<typeof records>) => {
    const queue = control(url);
    return method === "hold" ? queue.hold(items, 60) : queue[method](items);
  };

  it("reports nothing failed when Successful names every entry (Failed left out, as SQS does when empty)", async () => {
    const server = await sqsServer((seen) => ({ Successful: ids(seen) }));
    expect(await run(server.url, records(12))).toEqual({ failed: [] });
    expect(server.seen.map((s) => s.target)).toEqual([`AmazonSQS.${operation}`, `AmazonSQS.${operation}`]);
    expect(server.seen.map((s) => s.body.Entries?.length).sort()).toEqual([10, 2]);
  });

  it("reports the entries Failed names, and those neither list names", async () => {
    const server = await sqsServer(() => ({
      Successful: [{ Id: "0" }],
      Failed: [{ Id: "1", Code: "ReceiptHandleIsInvalid", SenderFault: true }],
    }));
    expect(await run(server.url, records(3))).toEqual({ failed: ["m-1", "m-2"] });
  });

  const malformed: Array<[what: string, answer: unknown]> = [
    ["null", "null"],
    ["an empty object", {}],
    ["Successful that is not a list", { Successful: "all", Failed: [] }],
    ["Failed that is not a list", { Successful: [{ Id: "0" }, { Id: "1" }], Failed: {} }],
    ["an entry without its Id", { Successful: [{ Id: "0" }, {}], Failed: [] }],
    ["not JSON", "<html>"],
  ];
  it.each(malformed)("fails every entry on an answer of %s", async (_what, answer) => {
    const server = await sqsServer(() => answer);
    expect(await run(server.url, records(2))).toEqual({ failed: ["m-0", "m-1"] });
  });
});

describe("the batch calls' retries", () => {
  it("are idempotent: a visibility change that timed out is sent again", async () => {
    let n = 0;
    const { url } = await httpServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (++n === 1) return; // the first never answered
        res.writeHead(200).end(JSON.stringify({ Successful: [{ Id: "0" }] }));
      });
    });
    const client = liteJsonClient({ name: "sqs", targetPrefix: "AmazonSQS", jsonVersion: "1.0" }, env(url), {
      requestTimeoutMs: 200,
      sleep: async () => {},
    });
    if (!client) throw new Error("no client");
    const queue = sqsQueueControl({ client, queueUrl: "q", deadLetterQueueUrl: "dlq" });
    expect(await queue.retryLater(records(1))).toEqual({ failed: [] });
    expect(n).toBe(2);
  });
});
