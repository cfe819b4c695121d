/**
 * A lite client for AWS services that speak the JSON protocol (SSM, SQS): signed HTTPS requests
 * (signer.ts) from the credentials in the environment, which is where Lambda puts them. A cold
 * start then loads none of the AWS SDK (about 370 KB minified and a fifth of a cold start's time,
 * measured in BENCHMARKS.md). It honours the SDK's endpoint variables (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL) and retries throttling, 5xx and network errors a few times.
 *
 * It does not trust its endpoint: an answer is read up to maxAnswerBytes, a 2xx must be a JSON
 * object (else an AwsResponseError), and a request the service may already have applied is never
 * sent again unless the call is idempotent (CallOptions.idempotent): a SendMessage or an UpdateItem
 * sent twice is a duplicate record or a skipped slot. A call may have a deadline of its own
 * (CallOptions.timeoutMs), attempts and waits included.
 *
 * One file of about 370 lines on purpose: the JSON and REST-JSON protocols share the signing, the
 * sending, the error decoding, the answer's checks and the retries, and differ only in how a
 * request is framed.
 */
import type { Agent } from "node:http";
import { AnswerTooLargeError, httpAgent, httpRequest, notSent } from "../http/request.ts";
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

/**
 * The endpoint answered 2xx with what the protocol does not allow (not JSON, JSON but not an
 * object), or without what the operation must return (a SendMessage without its MessageId: the
 * caller's check). An AwsServiceError of its own name, never retried: the service may well have
 * applied the request, and sending it again could apply it twice.
 */
export class AwsResponseError extends AwsServiceError {
  readonly service: string;
  readonly operation: string;
  constructor(service: string, operation: string, problem: string, status = 200) {
    super("AwsResponseError", `${service} ${operation} answered HTTP ${status} ${problem}`, status);
    this.service = service;
    this.operation = operation;
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
  /** Per attempt. Defaults 2 s to connect (TLS included), 5 s in all. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * Attempts for network errors, 5xx and throttling (which of them are retried: CallOptions).
   * Default 3, as the SDK's standard mode.
   */
  maxAttempts?: number;
  /**
   * The longest answer read; longer fails the call (AnswerTooLargeError, code EANSWERTOOLARGE) as
   * soon as it is longer, its connection destroyed, and is not retried. Default 1 MiB (SSM's
   * largest answer is about 100 KB).
   */
  maxAnswerBytes?: number;
  now?: () => Date;
  /** For the retry's jitter and its wait; injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * What may be retried. Whatever the call: throttling and a 5xx (or a transient code) that the
 * service named with its error code (its own refusal: it did not apply the request), and a
 * failure before the request can have reached it (request.ts's notSent: DNS, ECONNREFUSED, no
 * connection in time, a kept-alive connection reset before any answer). Only an idempotent call
 * also retries what may have been applied: a timeout or a reset once the request was sent, a 5xx
 * without an AWS error code (a proxy's page). Never retried: a 2xx that is not a JSON object
 * (AwsResponseError), an answer over maxAnswerBytes, any other 4xx.
 */
export interface CallOptions {
  /**
   * The most this call may take in all, every attempt and the waits between them: a request
   * still running then is aborted with an ETIMEDOUT error (lib/timeouts.ts), and a retry whose
   * wait would end past it is not made (the last failure is thrown). Each attempt may use all the
   * time left: given, it bounds the attempts instead of requestTimeoutMs. Pass "the time the
   * invocation has left, minus a margin". Default: each attempt bounded by requestTimeoutMs.
   */
  timeoutMs?: number;
  /**
   * Whether applying the request twice does no harm, so that a request that may have reached the
   * service is sent again. Default: a read by its name (Get…, BatchGet…, Describe…, List…, Query,
   * Scan: isReadOperation) over the JSON protocol, a GET over REST-JSON. Say `true` for a write
   * that is idempotent (a visibility change, a delete, an overwrite), never for one that is not
   * (SendMessage, a conditional or incrementing UpdateItem, a create-only PutParameter).
   */
  idempotent?: boolean;
}

export interface JsonClient {
  call<T = Record<string, unknown>>(
    operation: string,
    input: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<T>;
}

/** A REST-JSON request (SES v2): the method, the path already URI-encoded, and a JSON body. */
export interface RestRequest extends CallOptions {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: Record<string, unknown>;
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
 * errors) are retried (those CallOptions says may be), up to 3 attempts in all, each after a
 * random delay of up to 2^attempt × the base (100 ms, 500 ms for throttling), never over 20 s
 * ("full jitter").
 */
const THROTTLING =
  /^(Throttling|ThrottlingException|ThrottledException|RequestThrottledException|TooManyRequestsException|ProvisionedThroughputExceededException|TransactionInProgressException|RequestLimitExceeded|BandwidthLimitExceeded|LimitExceededException|RequestThrottled|SlowDown|PriorRequestNotComplete|EC2ThrottledException)$/;
const TRANSIENT_CODES =
  /^(TimeoutError|RequestTimeout|RequestTimeoutException|InternalError|InternalServerError|ServiceUnavailable)$/;
/** AWS's reads, by name: safe to send twice (CallOptions.idempotent's default). */
export const isReadOperation = (operation: string): boolean =>
  /^(Get|BatchGet|Describe|List)[A-Z]|^(Query|Scan)$/.test(operation);
const BASE_MS = 100;
const THROTTLING_BASE_MS = 500;
const MAX_DELAY_MS = 20_000;

/** The error code an AWS JSON service answered with: the x-amzn-errortype header, else `code` or `__type`. */
export function errorCodeOf(
  header: string | undefined,
  body: { __type?: unknown; code?: unknown } | undefined,
): string | undefined {
  const raw = [header, body?.code, body?.__type].find((v): v is string => typeof v === "string" && v !== "");
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
  /** The operation's name in errors: "SendMessage", "POST /v2/email/outbound-emails". */
  operation: string;
  method: RestRequest["method"];
  path: string;
  headers: Record<string, string>;
  body: string;
  idempotent: boolean;
  timeoutMs?: number | undefined;
}

/**
 * The signing, sending, error decoding and retrying both protocols share: `send(request)` answers
 * the JSON object of a 2xx, or throws an AwsServiceError (the service's code and message), an
 * AwsResponseError (a 2xx that is not a JSON object) or the network's error, after the retries
 * CallOptions describes.
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

  const once = async ({ method, path, headers, body }: Signed, attemptMs: number | undefined) => {
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
      connectTimeoutMs: Math.min(connectTimeoutMs, attemptMs ?? connectTimeoutMs),
      timeoutMs: attemptMs ?? requestTimeoutMs,
      maxBytes: maxAnswerBytes,
    });
  };

  /** The 2xx's JSON object; an empty body is the protocol's empty answer. */
  const answerOf = (operation: string, status: number, text: string): Record<string, unknown> => {
    if (!text) return {};
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AwsResponseError(
        signingName,
        operation,
        `with a body that is not JSON: ${JSON.stringify(text.slice(0, 100))}`,
        status,
      );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      const what = json === null ? "null" : Array.isArray(json) ? "an array" : `a ${typeof json}`;
      throw new AwsResponseError(signingName, operation, `with ${what}, not a JSON object`, status);
    }
    return json as Record<string, unknown>;
  };

  return async function send<T>(request: Signed): Promise<T> {
    const deadline = request.timeoutMs === undefined ? undefined : performance.now() + request.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const left = deadline === undefined ? undefined : Math.max(1, Math.round(deadline - performance.now()));
      let failure: Error;
      let retry: boolean;
      try {
        const { status, headers, body } = await once(request, left);
        const text = body.toString("utf8");
        if (status >= 200 && status < 300) return answerOf(request.operation, status, text) as T;
        let json: { __type?: unknown; code?: unknown; message?: unknown; Message?: unknown } | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === "object" && parsed !== null) json = parsed;
        } catch {
          // not JSON: keep the status and the start of the body
        }
        const errorType = [headers["x-amzn-errortype"]].flat()[0];
        const named = errorCodeOf(errorType, json);
        const code = named ?? `HTTP${status}`;
        const said = [json?.message, json?.Message].find((m): m is string => typeof m === "string");
        failure = new AwsServiceError(code, said ?? text.slice(0, 300), status);
        // The service's own refusal (it named it) did not apply the request; a bare 5xx may be a
        // proxy's that timed out waiting for a service that did.
        retry =
          THROTTLING.test(code) ||
          ((status >= 500 || TRANSIENT_CODES.test(code)) && (named !== undefined || request.idempotent));
      } catch (error) {
        failure = error as Error;
        retry =
          !(failure instanceof AwsServiceError) &&
          !(failure instanceof AnswerTooLargeError) &&
          (request.idempotent || notSent(failure));
      }
      if (!retry || attempt >= maxAttempts) throw failure;
      const wait = retryDelayMs(
        attempt,
        failure instanceof AwsServiceError && THROTTLING.test(failure.name),
        random,
      );
      // A wait that would end past the deadline: the last failure now, while the caller has time.
      if (deadline !== undefined && performance.now() + wait >= deadline) throw failure;
      await sleep(wait);
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
    call: <T>(operation: string, input: Record<string, unknown>, options: CallOptions = {}) =>
      send<T>({
        operation,
        method: "POST",
        path: "/",
        headers: { "content-type": contentType, "x-amz-target": `${service.targetPrefix}.${operation}` },
        body: JSON.stringify(input),
        idempotent: options.idempotent ?? isReadOperation(operation),
        timeoutMs: options.timeoutMs,
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
    request: <T>({ method, path, body, timeoutMs, idempotent }: RestRequest) =>
      send<T>({
        operation: `${method} ${path.split("?")[0]}`,
        method,
        path,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? "" : JSON.stringify(body),
        idempotent: idempotent ?? method === "GET",
        timeoutMs,
      }),
  };
}
