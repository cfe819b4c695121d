/**
 * A container's access tokens: fetched once, kept until shortly before they expire, shared by
 * every session (concurrent asks share one request), and fetched again when a server refuses one.
 * A token is keyed by everything that shapes it (method, endpoint, client, secret or key, scope,
 * user), so a settings change never reuses a token made for other settings.
 */
import { createHash } from "node:crypto";
import { type EmailSettings, isOAuth2Method, type OAuth2Method } from "../settings/index.ts";
import { fetchToken, where } from "./endpoint.ts";
import { TokenError } from "./errors.ts";
import { CredentialSettingError, tokenRequest } from "./requests.ts";

export interface AccessToken {
  /** Secret: never logged, never returned. */
  value: string;
  method: OAuth2Method;
  /** The endpoint it came from (scheme, host, path). */
  endpoint: string;
  scope: string;
  /** Milliseconds since the epoch. */
  fetchedAt: number;
  expiresAt: number;
  /** Taken from the cache rather than fetched for this ask. */
  fromCache: boolean;
}

export interface TokenAsk {
  /** The longest the fetch may take, when there is one to make. */
  timeoutMs: number;
  /** Fetch a new one even if one is cached (the server refused it; the connection test). */
  refresh?: boolean;
}

export interface AccessTokens {
  /** The token the settings sign in with. Throws TokenError. */
  get(settings: EmailSettings, ask: TokenAsk): Promise<AccessToken>;
  /** Starts fetching the settings' token now, if they sign in with one and none is cached: a cold start's head start. */
  prefetch(settings: EmailSettings, timeoutMs: number): void;
}

export interface AccessTokensOptions {
  /** A token is fetched again when less than this is left of it. Default 5 minutes, or half a shorter lifetime. */
  refreshBeforeMs?: number;
  /** Told of every token fetched, so loggers can scrub it. */
  onToken?: (token: string) => void;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
}

/** Tokens for this many distinct settings are kept: the current ones, and one or two being changed. */
const MAX_KEPT = 4;

function keyOf(s: EmailSettings): string {
  return createHash("sha256")
    .update(
      JSON.stringify([
        s.SMTPAuthMethod,
        s.OAuth2TokenEndpoint,
        s.OAuth2TenantId,
        s.OAuth2ClientId,
        s.OAuth2ClientSecret,
        s.OAuth2ClientCertificate,
        s.OAuth2ServiceAccountKey,
        s.OAuth2Scope,
        s.SMTPUsername,
      ]),
    )
    .digest("hex");
}

export function createAccessTokens(options: AccessTokensOptions = {}): AccessTokens {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const kept = new Map<string, AccessToken>();
  const inflight = new Map<string, Promise<AccessToken>>();

  const fresh = (token: AccessToken) => {
    const lifetime = token.expiresAt - token.fetchedAt;
    return now() < token.expiresAt - Math.min(refreshBeforeMs, lifetime / 2);
  };

  const fetchFor = (s: EmailSettings, method: OAuth2Method, key: string, timeoutMs: number) => {
    const running = inflight.get(key);
    if (running) return running;
    const started = (async () => {
      const at = now();
      let request: ReturnType<typeof tokenRequest>;
      try {
        request = tokenRequest(s, method, at);
      } catch (error) {
        if (!(error instanceof CredentialSettingError)) throw error;
        throw new TokenError(error.message, {
          method,
          code: "EOAUTH2KEY",
          transient: false,
          endpoint: "(not sent)",
        });
      }
      const fetched = await fetchToken(request, { timeoutMs });
      options.onToken?.(fetched.value);
      const token: AccessToken = {
        value: fetched.value,
        method,
        endpoint: where(request.endpoint),
        scope: request.scope,
        fetchedAt: at,
        expiresAt: at + fetched.lifetimeSeconds * 1000,
        fromCache: false,
      };
      kept.delete(key);
      kept.set(key, token);
      for (const old of kept.keys()) if (kept.size > MAX_KEPT) kept.delete(old);
      return token;
    })().finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  };

  return {
    async get(s, { timeoutMs, refresh = false }) {
      const method = s.SMTPAuthMethod;
      if (!isOAuth2Method(method)) throw new Error(`SMTPAuthMethod ${method} signs in with no token`);
      const key = keyOf(s);
      const cached = kept.get(key);
      if (cached && !refresh && fresh(cached)) return { ...cached, fromCache: true };
      // A refresh may share a fetch that is running: it began after the refused token had arrived.
      return fetchFor(s, method, key, timeoutMs);
    },
    prefetch(s, timeoutMs) {
      const method = s.SMTPAuthMethod;
      if (!isOAuth2Method(method) || s.Transport !== "smtp" || !s.EnableSMTPAuth) return;
      const key = keyOf(s);
      const cached = kept.get(key);
      if (cached && fresh(cached)) return;
      fetchFor(s, method, key, timeoutMs).catch(() => {}); // the session asks again, and reports it
    },
  };
}
