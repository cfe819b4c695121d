/**
 * A lite client for AWS services that speak the JSON protocol (SSM, SQS): signed HTTPS requests
 * (signer.ts) from the credentials in the environment, which is where Lambda puts them. A cold
 * start then loads none of the AWS SDK (about 370 KB minified and a fifth of a cold start's time,
 * measured in BENCHMARKS.md). It honours the SDK's endpoint variables (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL) and retries throttling, 5xx and network errors a few times. One file (a
 * little over 250 lines) on purpose: the JSON and REST-JSON protocols share the signing, the
 * sending, the error decoding and the retries, and differ only in how a request is framed.
 */
import type { Agent } from "node:http";
import { httpAgent, httpRequest } from "../http/request.ts";
import { serviceEndpoint } from "./endpoints.ts";
import { type Credentials, signRequest } from "./signer.ts";

export { serviceEndpoint } from "./endpoints.ts";

export type Env = Readonly<Record<string, string | undefined>>;

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
  /** The longest answer read; longer fails the call. Default 1 MiB (SSM's largest answer is about 100 KB). */
  maxAnswerBytes?: number;
  now?: () => Date;
  /** For the retry's jitter and its wait; injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface JsonClient {
  call<T = Record<string, unknown>>(operation: string, input: Record<string, unknown>): Promise<T>;
}

/** A REST-JSON request (SES v2): the method, the path already URI-encoded, and a JSON body. */
export interface RestRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: Record<string, unknown>;
  /** This call's deadline, connection included, over the client's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface RestJsonClient {
  request<T = Record<string, unknown>>(request: RestRequest): Promise<T>;
}

/** Credentials and region from the environment, where Lambda puts them; undefined without them. */
export function environmentCredentials(env: Env): { credentials: Credentials; region: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!accessKeyId || !secretAccessKey || !region) return undefined;
  return {
    region,
    credentials: {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
  };
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

/** The error code an AWS JSON service answered with: the x-amzn-errortype header, else `code` or `__type`. */
export function errorCodeOf(
  header: string | undefined,
  body: { __type?: string; code?: string } | undefined,
): string | undefined {
  const raw = header || body?.code || body?.__type;
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

/** What one signed request needs, shared by the JSON and REST-JSON clients. */
interface Signed {
  method: RestRequest["method"];
  path: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs?: number;
}

/**
 * The signing, sending, error decoding and retrying both protocols share: `send(request)` answers
 * the parsed JSON of a 2xx, or throws an AwsServiceError (the service's code and message) or the
 * network's error, after the SDK's standard retries.
 */
function signedSender(signingName: string, endpointPrefix: string, env: Env, options: LiteClientOptions) {
  const found = environmentCredentials(env);
  if (!found) return undefined;
  const { credentials, region } = found;
  const endpoint = serviceEndpoint(env, endpointPrefix, region);
  let agent: Agent | undefined;
  const {
    connectTimeoutMs = 2_000,
    requestTimeoutMs = 5_000,
    maxAttempts = 3,
    maxAnswerBytes = 1024 * 1024,
    now = () => new Date(),
    random = Math.random,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = options;
  // The endpoint's own path prefix (a proxy's), before the operation's.
  const base = endpoint.pathname.replace(/\/+$/, "");

  const once = async ({ method, path, headers, body, timeoutMs }: Signed) => {
    // One kept-alive connection serves every call of a warm container.
    agent ??= httpAgent(endpoint);
    const fullPath = `${base}${path}`;
    const signed = signRequest({
      credentials,
      region,
      service: signingName,
      host: endpoint.host,
      headers,
      body,
      now: now(),
      method,
      path: fullPath,
    });
    return httpRequest(new URL(fullPath, endpoint), {
      method,
      headers: signed,
      body,
      agent,
      connectTimeoutMs: Math.min(connectTimeoutMs, timeoutMs ?? connectTimeoutMs),
      timeoutMs: timeoutMs ?? requestTimeoutMs,
      maxBytes: maxAnswerBytes,
    });
  };

  const throttling = (error: Error) => error instanceof AwsServiceError && THROTTLING.test(error.name);
  /** Throttling, a 5xx or a transient code, or no answer at all (a network error, a timeout). */
  const retryable = (error: Error) =>
    !(error instanceof AwsServiceError) ||
    error.status >= 500 ||
    THROTTLING.test(error.name) ||
    TRANSIENT_CODES.test(error.name);

  return async function send<T>(request: Signed): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let failure: Error;
      try {
        const { status, headers, body } = await once(request);
        const text = body.toString("utf8");
        if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
        let json: { __type?: string; code?: string; message?: string; Message?: string } | undefined;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: keep the status and the start of the body
        }
        const errorType = [headers["x-amzn-errortype"]].flat()[0];
        const code = errorCodeOf(errorType, json) ?? `HTTP${status}`;
        failure = new AwsServiceError(code, json?.message ?? json?.Message ?? text.slice(0, 300), status);
      } catch (error) {
        failure = error as Error;
      }
      if (!retryable(failure) || attempt >= maxAttempts) throw failure;
      await sleep(retryDelayMs(attempt, throttling(failure), random));
    }
  };
}

/** The lite client when the environment holds credentials and a region, else undefined. */
export function liteJsonClient(
  service: JsonService,
  env: Env,
  options: LiteClientOptions = {},
): JsonClient | undefined {
  const send = signedSender(service.name, service.name, env, options);
  if (!send) return undefined;
  const contentType = `application/x-amz-json-${service.jsonVersion}`;
  return {
    call: <T>(operation: string, input: Record<string, unknown>) =>
      send<T>({
        method: "POST",
        path: "/",
        headers: { "content-type": contentType, "x-amz-target": `${service.targetPrefix}.${operation}` },
        body: JSON.stringify(input),
      }),
  };
}

/** How to reach one service over the REST-JSON protocol. */
export interface RestJsonService {
  /** The signing name: "ses". */
  signingName: string;
  /** The endpoint's prefix and AWS_ENDPOINT_URL_<NAME>'s name: "email" (email.<region>.amazonaws.com). */
  endpointPrefix: string;
  /** The SDK's name for AWS_ENDPOINT_URL_<SERVICE>: "SESV2". */
  endpointVariable: string;
}

/** The lite REST-JSON client when the environment holds credentials and a region, else undefined. */
export function liteRestJsonClient(
  service: RestJsonService,
  env: Env,
  options: LiteClientOptions = {},
): RestJsonClient | undefined {
  // The SDK's service-specific variable names the service's id (AWS_ENDPOINT_URL_SESV2).
  const explicit = env[`AWS_ENDPOINT_URL_${service.endpointVariable}`];
  const scoped: Env = explicit
    ? { ...env, [`AWS_ENDPOINT_URL_${service.endpointPrefix.toUpperCase()}`]: explicit }
    : env;
  const send = signedSender(service.signingName, service.endpointPrefix, scoped, options);
  if (!send) return undefined;
  return {
    request: <T>({ method, path, body, timeoutMs }: RestRequest) =>
      send<T>({
        method,
        path,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? "" : JSON.stringify(body),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }),
  };
}
