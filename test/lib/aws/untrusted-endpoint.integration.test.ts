/**
 * The lite client does not trust its endpoint, against real local HTTP servers that misbehave: an
 * endless answer is cut off at the cap, a 2xx that is not a JSON object is an AwsResponseError and
 * never sent again, a request the service may have applied is retried only when the call is
 * idempotent, and a call's deadline bounds its attempts and waits together.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import {
  AwsResponseError,
  AwsServiceError,
  type LiteClientOptions,
  liteJsonClient,
  liteRestJsonClient,
} from "../../../lib/aws/json-client.ts";
import { perTest } from "../../helpers/per-test.ts";
import { freePort } from "../../helpers/ports.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const { defer, httpServer } = perTest();

const CREDS = { AWS_ACCESS_KEY_ID: "t", AWS_SECRET_ACCESS_KEY: "t", AWS_REGION: "us-east-1" };
const SQS = { name: "sqs", targetPrefix: "AmazonSQS", jsonVersion: "1.0" } as const;

/** A server answering its n-th request with answers[n] (the last one again after them). */
async function answering(...answers: Answer[]) {
  let n = 0;
  const { url } = await httpServer((req, res) => {
    req.resume();
    req.on("end", () => (answers[Math.min(n++, answers.length - 1)] as Answer)(req, res));
  });
  return { url, requests: () => n };
}

/** An SQS client of `url` whose retry waits are recorded, not slept. */
function sqsClient(url: string, options: LiteClientOptions = {}) {
  const waits: number[] = [];
  const client = liteJsonClient(
    SQS,
    { ...CREDS, AWS_ENDPOINT_URL_SQS: url },
    { random: () => 1, sleep: async (ms) => void waits.push(ms), ...options },
  );
  if (!client) throw new Error("no client");
  return { client, waits };
}

const json =
  (status: number, body: unknown): Answer =>
  (_req, res) =>
    void res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(body));
const raw =
  (status: number, body: string): Answer =>
  (_req, res) =>
    void res.writeHead(status).end(body);

describe("an answer over maxAnswerBytes", () => {
  it("is cut off while it streams, quickly, its connection destroyed, and not retried", async () => {
    let written = 0;
    let closed = false;
    const server = await answering((_req, res) => {
      // An endless 2xx: 64 KiB chunks for as long as the client reads.
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      const chunk = Buffer.alloc(64 * 1024, " ");
      const pump = () => {
        while (!res.destroyed && written < 4 * 1024 ** 3) {
          written += chunk.length;
          if (!res.write(chunk)) return;
        }
      };
      res.on("drain", pump);
      res.on("close", () => {
        closed = true;
      });
      pump();
    });
    const { client } = sqsClient(server.url, { maxAnswerBytes: 1024 * 1024 });
    const started = performance.now();
    const error = await client.call("GetQueueAttributes", { QueueUrl: "q" }).catch((e) => e);
    expect(error).toMatchObject({ name: "AnswerTooLargeError", code: "EANSWERTOOLARGE" });
    expect(error.message).toMatch(/longer than 1048576 bytes/);
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect.poll(() => closed).toBe(true); // the server saw its connection go
    expect(written).toBeLessThan(64 * 1024 * 1024); // not gigabytes: a few buffers past the cap
    expect(server.requests()).toBe(1);
  });

  it("is refused from its content-length before it is read", async () => {
    const server = await answering((_req, res) => {
      res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
      res.write("{"); // and then nothing: only the header can end this call in time
    });
    const { client } = sqsClient(server.url, { maxAnswerBytes: 1024 * 1024, requestTimeoutMs: 3_000 });
    const started = performance.now();
    await expect(client.call("GetQueueAttributes", {})).rejects.toMatchObject({ code: "EANSWERTOOLARGE" });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("a 2xx that is not a JSON object", () => {
  const cases: Array<[what: string, answer: Answer, problem: RegExp]> = [
    ["null", raw(200, "null"), /answered HTTP 200 with null, not a JSON object/],
    ["an array", raw(200, "[]"), /with an array, not a JSON object/],
    ["a string", raw(200, '"x"'), /with a string, not a JSON object/],
    ["a number", raw(200, "42"), /with a number, not a JSON object/],
    ["not JSON", raw(200, "<html>proxy</html>"), /with a body that is not JSON: "<html>proxy<\/html>"/],
    ["truncated JSON", raw(202, '{"MessageId":"m'), /answered HTTP 202 with a body that is not JSON/],
  ];
  it.each(cases)(
    "%s is an AwsResponseError naming the service and operation, never sent again",
    async (_what, answer, problem) => {
      for (const operation of ["SendMessage", "GetQueueAttributes"]) {
        const server = await answering(answer, json(200, { MessageId: "m-1" }));
        const { client } = sqsClient(server.url);
        const error = await client.call(operation, { QueueUrl: "q" }).catch((e) => e);
        expect(error).toBeInstanceOf(AwsResponseError);
        expect(error).toBeInstanceOf(AwsServiceError); // callers that sort the service's answers see it as one
        expect(error).toMatchObject({ name: "AwsResponseError", service: "sqs", operation });
        expect(error.message).toMatch(new RegExp(`^sqs ${operation} `));
        expect(error.message).toMatch(problem);
        expect(server.requests()).toBe(1);
      }
    },
  );

  it("an empty 2xx body is the protocol's empty answer", async () => {
    const server = await answering(raw(200, ""));
    expect(await sqsClient(server.url).client.call("DeleteQueue", { QueueUrl: "q" })).toEqual({});
  });
});

describe("what is retried", () => {
  it("a timeout once the request was sent: only for an idempotent call", async () => {
    const never: Answer = () => {}; // reads the request, never answers
    const ok = json(200, { MessageId: "m-1", Attributes: {} });

    const send = await answering(never, ok);
    const error = await sqsClient(send.url, { requestTimeoutMs: 200 })
      .client.call("SendMessage", { QueueUrl: "q", MessageBody: "b" })
      .catch((e) => e);
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(send.requests()).toBe(1); // the queue may hold it already: not sent twice

    const read = await answering(never, ok);
    await sqsClient(read.url, { requestTimeoutMs: 200 }).client.call("GetQueueAttributes", { QueueUrl: "q" });
    expect(read.requests()).toBe(2);

    // A write the caller says is idempotent is retried too.
    const change = await answering(never, ok);
    await sqsClient(change.url, { requestTimeoutMs: 200 }).client.call(
      "ChangeMessageVisibilityBatch",
      { QueueUrl: "q", Entries: [] },
      { idempotent: true },
    );
    expect(change.requests()).toBe(2);
  });

  it("a new connection reset after the request was sent: only for an idempotent call", async () => {
    const reset: Answer = (req) => req.socket.destroy();
    const ok = json(200, { MessageId: "m-1" });

    const send = await answering(reset, ok);
    const error = await sqsClient(send.url)
      .client.call("SendMessage", { QueueUrl: "q", MessageBody: "b" })
      .catch((e) => e);
    expect(error).toMatchObject({ code: "ECONNRESET" });
    expect(send.requests()).toBe(1);

    const read = await answering(reset, ok);
    await sqsClient(read.url).client.call("GetQueueUrl", { QueueName: "q" });
    expect(read.requests()).toBe(2);
  });

  it("a connection refused, for any call: the request never left", async () => {
    const port = await freePort();
    const { client, waits } = sqsClient(`http://127.0.0.1:${port}`);
    const error = await client.call("SendMessage", { QueueUrl: "q", MessageBody: "b" }).catch((e) => e);
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
    expect(waits).toEqual([200, 400]); // three attempts
  });

  it("a kept-alive connection the server dropped before answering, for any call", async () => {
    let sockets = 0;
    let n = 0;
    const { server, url } = await httpServer((req, res) => {
      n++;
      // The second request comes on the first's kept-alive connection: dropped unanswered, as a
      // server does that closed an idle connection just as the client wrote to it.
      if (n === 2) return void req.socket.destroy();
      req.resume();
      req.on("end", () => json(200, { MessageId: `m-${n}` })(req, res));
    });
    server.on("connection", () => sockets++);
    const { client } = sqsClient(url);
    await client.call("SendMessage", { QueueUrl: "q", MessageBody: "1" });
    expect(await client.call("SendMessage", { QueueUrl: "q", MessageBody: "2" })).toEqual({
      MessageId: "m-3",
    });
    expect(sockets).toBe(2); // the retry on a new connection
  });

  it("a 5xx: always when the service named its error, only for an idempotent call when it did not", async () => {
    const internal = json(500, { __type: "com.amazonaws.sqs#InternalError", message: "oops" });
    const gateway = raw(504, "<html>Gateway Time-out</html>");
    const ok = json(200, { MessageId: "m-1" });
    const send = (url: string) =>
      sqsClient(url)
        .client.call("SendMessage", { QueueUrl: "q", MessageBody: "b" })
        .catch((e) => e);

    const named = await answering(internal, ok);
    expect(await send(named.url)).toEqual({ MessageId: "m-1" });
    expect(named.requests()).toBe(2);

    const bare = await answering(gateway, ok);
    expect(await send(bare.url)).toMatchObject({ name: "HTTP504", status: 504 });
    expect(bare.requests()).toBe(1);

    const read = await answering(gateway, ok);
    await sqsClient(read.url).client.call("GetQueueAttributes", { QueueUrl: "q" });
    expect(read.requests()).toBe(2);
  });

  it("throttling, for any call: the service refused it", async () => {
    const server = await answering(
      json(400, { __type: "com.amazonaws.sqs#RequestThrottled", message: "slow down" }),
      json(200, { MessageId: "m-1" }),
    );
    const { client, waits } = sqsClient(server.url);
    await client.call("SendMessage", { QueueUrl: "q", MessageBody: "b" });
    expect(waits).toEqual([1000]);
  });
});

describe("a call's deadline (timeoutMs)", () => {
  it("aborts a request still running then with ETIMEDOUT, over the client's longer request timeout", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const { client } = sqsClient(`http://127.0.0.1:${silent.port}`, { requestTimeoutMs: 10_000 });
    const started = performance.now();
    const error = await client
      .call("GetQueueAttributes", { QueueUrl: "q" }, { timeoutMs: 300 })
      .catch((e) => e);
    const took = performance.now() - started;
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1_500);
  });

  it("counts the attempts and the waits together: no retry whose wait would end past it", async () => {
    const server = await answering(json(503, { __type: "ServiceUnavailable", message: "busy" }));
    const client = liteJsonClient(
      SQS,
      { ...CREDS, AWS_ENDPOINT_URL_SQS: server.url },
      { maxAttempts: 10, random: () => 1 }, // real waits: 200, 400, 800 ms…
    );
    const started = performance.now();
    const error = await client
      ?.call("GetQueueAttributes", { QueueUrl: "q" }, { timeoutMs: 500 })
      .catch((e) => e);
    expect(error).toMatchObject({ name: "ServiceUnavailable" }); // the last failure, at once
    expect(server.requests()).toBe(2); // the second wait (400 ms) would end past the deadline
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("bounds a REST-JSON request the same way", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const api = liteRestJsonClient(
      { signingName: "ses", endpointPrefix: "email", endpointVariable: "SESV2" },
      { ...CREDS, AWS_ENDPOINT_URL_SESV2: `http://127.0.0.1:${silent.port}` },
      { requestTimeoutMs: 10_000 },
    );
    const started = performance.now();
    const error = await api
      ?.request({ method: "GET", path: "/v2/email/account", timeoutMs: 300 })
      .catch((e) => e);
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
