/**
 * A lite client for AWS services that speak the JSON protocol (SSM, SQS): signed HTTPS requests
 * (signer.ts) from the credentials in the environment, which is where Lambda puts them. A cold
 * start then loads none of the AWS SDK (about 370 KB minified and a fifth of a cold start's time,
 * measured in BENCHMARKS.md). It honours the SDK's endpoint variables (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL) and retries throttling, 5xx and network errors a few times.
 */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { timeoutError } from "../timeouts.ts";
import { signRequest } from "./signer.ts";

export type Env = Readonly<Record<string, string | undefined>>;

interface Transport {
  agent: Agent;
  request(url: URL, options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest;
}

/**
 * node:http and node:https are imported when the first request is made, not with this module:
 * loading node:http alone takes about 25 ms, which a cold start's entry must not spend before it
 * has opened the SMTP connection (functions/cold-start.ts).
 */
async function loadTransport(secure: boolean): Promise<Transport> {
  // One kept-alive connection serves every call of a warm container.
  if (secure) {
    const https = await import("node:https");
    return { agent: new https.Agent({ keepAlive: true, maxSockets: 4 }), request: https.request };
  }
  const http = await import("node:http");
  return { agent: new http.Agent({ keepAlive: true, maxSockets: 4 }), request: http.request };
}

/** An error the service answered with; `name` is its code (ParameterNotFound, AccessDeniedException…). */
export class AwsServiceError extends Error {
  readonly status: number;
  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/** How to reach one service over the JSON protocol. */
export interface JsonService {
  /** The signing name and endpoint prefix: "ssm", "sqs". */
  name: string;
  /** X-Amz-Target's prefix: "AmazonSSM", "AmazonSQS". */
  targetPrefix: string;
  /** "1.1" for SSM, "1.0" for SQS. */
  jsonVersion: "1.0" | "1.1";
}

export interface LiteClientOptions {
  /** Per request. Defaults 2 s to connect, 5 s in all. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts for network errors, 5xx and throttling. Default 3. */
  maxAttempts?: number;
  now?: () => Date;
}

export interface JsonClient {
  call<T = Record<string, unknown>>(operation: string, input: Record<string, unknown>): Promise<T>;
}

const RETRYABLE = /Throttling|TooManyRequests|RequestLimitExceeded|InternalServerError|ServiceUnavailable/;

export function serviceEndpoint(env: Env, service: string, region: string): URL {
  const explicit = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL;
  if (explicit) return new URL(explicit);
  return new URL(`https://${service}.${region}.amazonaws.${region.startsWith("cn-") ? "com.cn" : "com"}`);
}

/** The lite client when the environment holds credentials and a region, else undefined. */
export function liteJsonClient(
  service: JsonService,
  env: Env,
  options: LiteClientOptions = {},
): JsonClient | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!accessKeyId || !secretAccessKey || !region) return undefined;
  const credentials = {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
  const endpoint = serviceEndpoint(env, service.name, region);
  const secure = endpoint.protocol === "https:";
  let transport: Promise<Transport> | undefined;
  const {
    connectTimeoutMs = 2_000,
    requestTimeoutMs = 5_000,
    maxAttempts = 3,
    now = () => new Date(),
  } = options;
  const contentType = `application/x-amz-json-${service.jsonVersion}`;

  const once = async (operation: string, body: string) => {
    transport ??= loadTransport(secure);
    const { agent, request } = await transport;
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = signRequest({
        credentials,
        region,
        service: service.name,
        host: endpoint.host,
        headers: { "content-type": contentType, "x-amz-target": `${service.targetPrefix}.${operation}` },
        body,
        now: now(),
      });
      const req = request(
        endpoint,
        { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      const overall = setTimeout(
        () => req.destroy(timeoutError(`no answer within ${requestTimeoutMs} ms`)),
        requestTimeoutMs,
      );
      req.on("socket", (socket) => {
        if (socket.connecting) {
          socket.setTimeout(connectTimeoutMs, () =>
            req.destroy(timeoutError(`no connection within ${connectTimeoutMs} ms`)),
          );
          socket.once("connect", () => socket.setTimeout(0));
        }
      });
      req.on("error", reject);
      req.on("close", () => clearTimeout(overall));
      req.end(body);
    });
  };

  const retryable = (error: AwsServiceError) => error.status >= 500 || RETRYABLE.test(error.name);

  return {
    async call<T>(operation: string, input: Record<string, unknown>): Promise<T> {
      const body = JSON.stringify(input);
      for (let attempt = 1; ; attempt++) {
        let retry: Error;
        try {
          const { status, text } = await once(operation, body);
          if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
          let code = `HTTP${status}`;
          let message = text.slice(0, 300);
          try {
            const json = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
            code = json.__type?.split("#").pop() ?? code;
            message = json.message ?? json.Message ?? message;
          } catch {
            // not JSON: keep the status and the start of the body
          }
          const error = new AwsServiceError(code, message, status);
          if (!retryable(error)) throw error;
          retry = error;
        } catch (error) {
          if (error instanceof AwsServiceError && !retryable(error)) throw error;
          retry = error as Error;
        }
        if (attempt >= maxAttempts) throw retry;
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt + Math.random() * 50));
      }
    },
  };
}
