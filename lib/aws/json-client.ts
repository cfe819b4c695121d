/**
 * A lite client for AWS services that speak the JSON protocol (SSM, SQS): signed HTTPS requests
 * (signer.ts) from the credentials in the environment, which is where Lambda puts them. A cold
 * start then loads none of the AWS SDK (about 370 KB minified and a fifth of a cold start's time,
 * measured in BENCHMARKS.md). It honours the SDK's endpoint variables (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL) and retries throttling, 5xx and network errors a few times.
 */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { timeoutError } from "../timeouts.ts";
import { serviceEndpoint } from "./endpoints.ts";
import { signRequest } from "./signer.ts";

export { serviceEndpoint } from "./endpoints.ts";

export type Env = Readonly<Record<string, string | undefined>>;

interface Transport {
  agent: Agent;
  request(url: URL, options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest;
}

/**
 * node:http and node:https are loaded when the first request is made, not with this module:
 * loading node:http alone takes about 25 ms, which a cold start's entry must not spend before it
 * has opened the SMTP connection (functions/cold-start.ts). And they are loaded as CommonJS
 * (process.getBuiltinModule), not with import(): an ES import of a built-in builds a facade of
 * all its exports, and reading node:http's WebSocket and MessageEvent loads undici, 11 ms more of
 * a first invocation (measured with --cpu-prof; BENCHMARKS.md).
 */
async function loadTransport(secure: boolean): Promise<Transport> {
  // One kept-alive connection serves every call of a warm container.
  if (secure) {
    const https = process.getBuiltinModule("node:https");
    return { agent: new https.Agent({ keepAlive: true, maxSockets: 4 }), request: https.request };
  }
  const http = process.getBuiltinModule("node:http");
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
  /** Attempts for network errors, 5xx and throttling. Default 3, as the SDK's standard mode. */
  maxAttempts?: number;
  now?: () => Date;
  /** For the retry's jitter and its wait; injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface JsonClient {
  call<T = Record<string, unknown>>(operation: string, input: Record<string, unknown>): Promise<T>;
}

/**
 * The AWS SDK's standard retry mode: throttling errors, transient ones (5xx, timeouts, network
 * errors) are retried, up to 3 attempts in all, each after a random delay of up to
 * 2^attempt × the base (100 ms, 500 ms for throttling), never over 20 s ("full jitter").
 */
const THROTTLING =
  /^(Throttling|ThrottlingException|ThrottledException|RequestThrottledException|TooManyRequestsException|ProvisionedThroughputExceededException|TransactionInProgressException|RequestLimitExceeded|BandwidthLimitExceeded|LimitExceededException|RequestThrottled|SlowDown|PriorRequestNotComplete|EC2ThrottledException)$/;
const TRANSIENT_CODES =
  /^(TimeoutError|RequestTimeout|RequestTimeoutException|InternalError|InternalServerError|ServiceUnavailable)$/;
const BASE_MS = 100;
const THROTTLING_BASE_MS = 500;
const MAX_DELAY_MS = 20_000;

/** The error code an AWS JSON service answered with: the x-amzn-errortype header, else `__type`. */
export function errorCodeOf(
  header: string | undefined,
  body: { __type?: string } | undefined,
): string | undefined {
  const raw = header || body?.__type;
  if (!raw) return undefined;
  return raw.split(":")[0]?.split("#").pop() || undefined;
}

export function retryDelayMs(
  attempt: number,
  throttled: boolean,
  random: () => number = Math.random,
): number {
  const base = throttled ? THROTTLING_BASE_MS : BASE_MS;
  return Math.floor(Math.min(MAX_DELAY_MS, random() * 2 ** attempt * base));
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
    random = Math.random,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = options;
  const contentType = `application/x-amz-json-${service.jsonVersion}`;

  const once = async (operation: string, body: string) => {
    transport ??= loadTransport(secure);
    const { agent, request } = await transport;
    return new Promise<{ status: number; text: string; errorType: string | undefined }>((resolve, reject) => {
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
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              errorType: [res.headers["x-amzn-errortype"]].flat()[0],
            }),
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

  const throttling = (error: Error) => error instanceof AwsServiceError && THROTTLING.test(error.name);
  /** Throttling, a 5xx or a transient code, or no answer at all (a network error, a timeout). */
  const retryable = (error: Error) =>
    !(error instanceof AwsServiceError) ||
    error.status >= 500 ||
    THROTTLING.test(error.name) ||
    TRANSIENT_CODES.test(error.name);

  return {
    async call<T>(operation: string, input: Record<string, unknown>): Promise<T> {
      const body = JSON.stringify(input);
      for (let attempt = 1; ; attempt++) {
        let failure: Error;
        try {
          const { status, text, errorType } = await once(operation, body);
          if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
          let json: { __type?: string; message?: string; Message?: string } | undefined;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: keep the status and the start of the body
          }
          const code = errorCodeOf(errorType, json) ?? `HTTP${status}`;
          failure = new AwsServiceError(code, json?.message ?? json?.Message ?? text.slice(0, 300), status);
        } catch (error) {
          failure = error as Error;
        }
        if (!retryable(failure) || attempt >= maxAttempts) throw failure;
        await sleep(retryDelayMs(attempt, throttling(failure), random));
      }
    },
  };
}
