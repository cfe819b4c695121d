/**
 * The lite SSM client: its SigV4 signature is checked against the AWS SDK's own signer, and its
 * error, retry and timeout paths against real local HTTP servers.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, describe, expect, it } from "vitest";
import { regionalEndpoint } from "../../../lib/aws/endpoints.ts";
import { signRequest } from "../../../lib/aws/signer.ts";
import { liteSsmApi, ssmEndpoint } from "../../../lib/aws-ssm/index.ts";
import { REGION_OF_EACH_PARTITION } from "../../helpers/partitions.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";

/** The SDK signer wants a Sha256 constructor; node:crypto makes one (HMAC when given a key). */
class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", Buffer.from(secret as never));
  }
  update(data: string | Uint8Array) {
    this.h.update(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

describe("signRequest", () => {
  const cases: Array<[name: string, sessionToken: string | undefined, region: string]> = [
    ["with a session token", "IQoJb3JpZ2luX2VjEXAMPLE", "eu-west-1"],
    ["without a session token", undefined, "eu-west-1"],
    // A region of every other partition, at its FIPS endpoint.
    ...REGION_OF_EACH_PARTITION.filter((region) => region !== "eu-west-1").map(
      (region): [string, string, string] => [`in ${region}`, "IQoJb3JpZ2luX2VjEXAMPLE", region],
    ),
  ];
  it.each(cases)("matches the AWS SDK's SigV4 signer (%s)", async (_name, sessionToken, region) => {
    const host = regionalEndpoint("ssm", region, { fips: region !== "eu-west-1" }).host;
    const credentials = {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      ...(sessionToken ? { sessionToken } : {}),
    };
    const now = new Date("2026-11-24T12:34:56Z");
    const body = JSON.stringify({ Path: "/mattermost/EmailSettings", WithDecryption: true, MaxResults: 10 });
    const headers = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AmazonSSM.GetParametersByPath",
    };
    const ours = signRequest({
      credentials,
      region,
      service: "ssm",
      host,
      headers,
      body,
      now,
    });

    const signer = new SignatureV4({
      credentials,
      region,
      service: "ssm",
      sha256: NodeSha256 as never,
      applyChecksum: false, // as the SSM client signs: no x-amz-content-sha256
    });
    const signed = await signer.sign(
      {
        method: "POST",
        protocol: "https:",
        hostname: host,
        path: "/",
        headers: { ...headers, host },
        body,
      } as never,
      { signingDate: now },
    );
    expect(ours.authorization).toBe(
      (signed as unknown as { headers: Record<string, string> }).headers.authorization,
    );
    expect(ours["x-amz-date"]).toBe("20261124T123456Z");
  });
});

describe("ssmEndpoint", () => {
  it("honours AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, else the regional endpoint", () => {
    expect(
      ssmEndpoint(
        { AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:4566", AWS_ENDPOINT_URL: "http://x" },
        "us-east-1",
      ).href,
    ).toBe("http://127.0.0.1:4566/");
    expect(ssmEndpoint({ AWS_ENDPOINT_URL: "http://127.0.0.1:5000" }, "us-east-1").href).toBe(
      "http://127.0.0.1:5000/",
    );
    expect(ssmEndpoint({}, "eu-west-1").href).toBe("https://ssm.eu-west-1.amazonaws.com/");
    expect(ssmEndpoint({}, "cn-north-1").href).toBe("https://ssm.cn-north-1.amazonaws.com.cn/");
  });
});

describe("liteSsmApi", () => {
  const creds = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "us-east-1" };
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  async function httpServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => handler(req, res, ++n));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n };
  }

  it("is only used when the environment holds credentials and a region", () => {
    expect(liteSsmApi({})).toBeUndefined();
    expect(liteSsmApi({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" })).toBeUndefined();
    expect(liteSsmApi(creds)).toBeDefined();
  });

  it("sends a signed JSON-protocol request and names AWS errors by their code, without retrying them", async () => {
    let seen: IncomingMessage | undefined;
    const server = await httpServer((req, res) => {
      seen = req;
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({ __type: "com.amazonaws.ssm#AccessDeniedException", message: "not allowed here" }),
      );
    });
    const api = liteSsmApi({
      ...creds,
      AWS_SESSION_TOKEN: "tok",
      AWS_ENDPOINT_URL_SSM: server.url,
    }) as NonNullable<ReturnType<typeof liteSsmApi>>;
    const error = await api.call("GetParameters", { Names: ["/a"] }).catch((e) => e);
    expect(error).toMatchObject({ name: "AccessDeniedException", message: "not allowed here", status: 400 });
    expect(server.count()).toBe(1);
    expect(seen?.headers["x-amz-target"]).toBe("AmazonSSM.GetParameters");
    expect(seen?.headers["x-amz-security-token"]).toBe("tok");
    expect(seen?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/ssm\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });

  it("retries throttling and 5xx, then succeeds", async () => {
    const server = await httpServer((_req, res, n) => {
      if (n === 1)
        return void res
          .writeHead(400)
          .end(JSON.stringify({ __type: "ThrottlingException", message: "slow down" }));
      if (n === 2) return void res.writeHead(503).end("busy");
      res.writeHead(200).end(JSON.stringify({ Parameters: [] }));
    });
    const api = liteSsmApi({ ...creds, AWS_ENDPOINT_URL_SSM: server.url }) as NonNullable<
      ReturnType<typeof liteSsmApi>
    >;
    expect(await api.call("GetParametersByPath", { Path: "/a" })).toEqual({ Parameters: [] });
    expect(server.count()).toBe(3);
  });

  it("gives up on a server that never answers within its request timeout", async () => {
    const silent = await startSilentServer();
    closers.push(() => silent.close());
    const api = liteSsmApi(
      { ...creds, AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${silent.port}` },
      { requestTimeoutMs: 300, maxAttempts: 2 },
    ) as NonNullable<ReturnType<typeof liteSsmApi>>;
    const started = performance.now();
    const error = await api.call("GetParameters", { Names: [] }).catch((e) => e);
    expect(error.message).toMatch(/no answer within 300 ms/);
    expect(performance.now() - started).toBeLessThan(5_000); // two bounded attempts, not a hang
  });
});
