/**
 * One call to a token endpoint: the request (requests.ts) posted as a form, within a deadline,
 * and its answer read as RFC 6749 says: an access token and its lifetime, or an error with the
 * provider's explanation, which becomes a TokenError with the fix (errors.ts). An answer that is
 * not a token (garbage, an HTML page, an oversized body, a token that could not travel in
 * XOAUTH2) is refused, not trusted.
 */
import { httpRequest } from "../http/request.ts";
import { scrub } from "../scrub.ts";
import { fixFor, PROVIDER_WORDS, TokenError } from "./errors.ts";
import type { TokenRequest } from "./requests.ts";

/** A token answer is a few KB; an endpoint that sends more is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Lifetime assumed when the answer gives none (RFC 6749 makes expires_in optional). */
const DEFAULT_LIFETIME_SECONDS = 3600;
/** A token goes into the XOAUTH2 string: printable ASCII only, or it could end the SASL field. */
const TOKEN_CHARS = /^[\x21-\x7e]{1,16384}$/;
const TRANSIENT_NETWORK =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNABORTED)$/;

export interface FetchedToken {
  /** Secret. */
  value: string;
  /** Seconds the token is valid from when it was issued. */
  lifetimeSeconds: number;
}

export interface FetchOptions {
  /** The whole call, connection included. */
  timeoutMs: number;
}

/** Where a request goes, for messages: scheme, host and path (no query, no credentials). */
export const where = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

export async function fetchToken(request: TokenRequest, { timeoutMs }: FetchOptions): Promise<FetchedToken> {
  const { method, endpoint } = request;
  const endpointText = where(endpoint);
  const words = PROVIDER_WORDS[method];
  const clean = (text: string) => scrub(text, request.secrets);
  const fail = (
    code: string,
    message: string,
    more: { transient: boolean; status?: number; response?: string; cause?: unknown },
  ) => new TokenError(clean(message), { method, code, endpoint: endpointText, ...more });

  let answer: Awaited<ReturnType<typeof httpRequest>>;
  try {
    answer = await httpRequest(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        ...request.headers,
      },
      body: new URLSearchParams(request.form).toString(),
      connectTimeoutMs: timeoutMs,
      timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? "ENETWORK";
    const transient = TRANSIENT_NETWORK.test(code);
    const why =
      code === "ETIMEDOUT"
        ? `no answer within ${timeoutMs} ms`
        : code === "ENOTFOUND"
          ? `its host ${endpoint.hostname} does not resolve: check OAuth2TokenEndpoint (or OAuth2TenantId)`
          : code === "EANSWERTOOLARGE"
            ? `its answer is longer than ${MAX_ANSWER_BYTES} bytes: it is not a token endpoint`
            : `${code}: ${(error as Error).message}`;
    throw fail(code, `${words} ${endpointText} could not be used: ${why}`, { transient, cause: error });
  }

  const { status } = answer;
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(answer.body.toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: below
  }
  const transientStatus = status === 429 || status >= 500;

  if (status >= 200 && status < 300 && json && typeof json.access_token === "string") {
    if (!TOKEN_CHARS.test(json.access_token)) {
      throw fail(
        "EBADTOKEN",
        `${words} ${endpointText} answered a token that cannot be sent over SMTP (not printable ASCII)`,
        {
          transient: false,
          status,
        },
      );
    }
    const lifetime = Number(json.expires_in ?? DEFAULT_LIFETIME_SECONDS);
    return {
      value: json.access_token,
      lifetimeSeconds: Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_SECONDS,
    };
  }

  if (!json || (typeof json.error !== "string" && !(status >= 200 && status < 300))) {
    throw fail(
      transientStatus ? `HTTP${status}` : "EBADANSWER",
      transientStatus
        ? `${words} ${endpointText} is failing (HTTP ${status}): the token is asked for again later`
        : `${endpointText} does not answer as a token endpoint (HTTP ${status}${json ? "" : ", not JSON"}): check OAuth2TokenEndpoint`,
      { transient: transientStatus, status },
    );
  }
  const error = typeof json.error === "string" ? json.error : "no_token";
  const description = clean(String(json.error_description ?? "").split(/\r?\n/)[0] ?? "").slice(0, 500);
  const aadsts = /\bAADSTS\d+/.exec(description)?.[0];
  const code = aadsts ?? error;
  const transient = transientStatus || error === "temporarily_unavailable" || error === "server_error";
  const fix = fixFor(method, code, error, description);
  const said = description ? `: ${description}` : "";
  throw fail(
    code,
    fix
      ? `${words} refused the token request (${code}): ${fix}`
      : `${words} ${endpointText} refused the token request (${code}, HTTP ${status})${said}`,
    { transient, status, ...(description ? { response: description } : {}) },
  );
}
