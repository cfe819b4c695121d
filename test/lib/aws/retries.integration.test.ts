/**
 * The lite client retries as the SDK's standard mode does, against a local server that answers
 * as AWS does under load: throttling (the code in `__type` or in the x-amzn-errortype header), a
 * 5xx, a dropped connection, then 200. What must not be retried is not.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { errorCodeOf, liteJsonClient, retryDelayMs } from "../../../lib/aws/json-client.ts";
import { perTest } from "../../helpers/per-test.ts";

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const { httpServer } = perTest();

async function answering(...answers: Answer[]) {
  let n = 0;
  const { url } = await httpServer((req, res) => {
    req.resume();
    req.on("end", () => (answers[Math.min(n++, answers.length - 1)] as Answer)(req, res));
  });
  const waits: number[] = [];
  const client = liteJsonClient(
    { name: "ssm", targetPrefix: "AmazonSSM", jsonVersion: "1.1" },
    {
      AWS_ACCESS_KEY_ID: "t",
      AWS_SECRET_ACCESS_KEY: "t",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SSM: url,
    },
    { random: () => 1, sleep: async (ms) => void waits.push(ms) },
  );
  if (!client) throw new Error("no client");
  return { client, waits, requests: () => n };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...headers });
    res.end(JSON.stringify(body));
  };
const ok = json(200, { Parameter: { Value: "v" } });

describe("retries", () => {
  it("retries a 400 ThrottlingException, then succeeds, waiting with full jitter from a 500 ms base", async () => {
    const { client, waits, requests } = await answering(
      json(400, { __type: "com.amazonaws.ssm#ThrottlingException", message: "Rate exceeded" }),
      ok,
    );
    await expect(client.call("GetParameter", { Name: "/x" })).resolves.toEqual({ Parameter: { Value: "v" } });
    expect(requests()).toBe(2);
    expect(waits).toEqual([1000]); // random 1 × 2^1 × 500 ms
  });

  it("reads the error code from x-amzn-errortype when the body has none", async () => {
    const { client, requests } = await answering(
      json(
        400,
        { message: "slow down" },
        { "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/" },
      ),
      ok,
    );
    await client.call("GetParameter", { Name: "/x" });
    expect(requests()).toBe(2);
  });

  it("retries a 5xx and a dropped connection, from a 100 ms base", async () => {
    const { client, waits, requests } = await answering(
      json(503, { __type: "ServiceUnavailable" }),
      (req) => req.socket.destroy(),
      ok,
    );
    await client.call("GetParameter", { Name: "/x" });
    expect(requests()).toBe(3);
    expect(waits).toEqual([200, 400]);
  });

  it("gives up after 3 attempts, with the last error's code", async () => {
    const { client, requests } = await answering(
      json(400, { __type: "ThrottlingException", message: "Rate exceeded" }),
    );
    await expect(client.call("GetParameter", { Name: "/x" })).rejects.toMatchObject({
      name: "ThrottlingException",
      status: 400,
    });
    expect(requests()).toBe(3);
  });

  it("does not retry what cannot succeed: access denied, a missing parameter", async () => {
    const { client, requests } = await answering(
      json(400, { __type: "com.amazonaws.ssm#ParameterNotFound", message: "gone" }),
    );
    await expect(client.call("GetParameter", { Name: "/x" })).rejects.toMatchObject({
      name: "ParameterNotFound",
    });
    expect(requests()).toBe(1);
  });

  it("never waits over 20 s", () => {
    expect(retryDelayMs(10, true, () => 1)).toBe(20_000);
    expect(errorCodeOf(undefined, { __type: "com.amazonaws.ssm#AccessDeniedException" })).toBe(
      "AccessDeniedException",
    );
  });
});
