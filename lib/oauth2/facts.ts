/**
 * What the connection test may say about a token: where it came from, for whom, what it allows
 * and until when; never the token. A JWT's claims are read without checking its signature (the
 * SMTP server checks it); an opaque token (Google's) has only its lifetime.
 */
import type { AccessToken } from "./tokens.ts";

export interface TokenFacts {
  endpoint: string;
  /** The scope asked for. */
  scope: string;
  /** Seconds it is valid for from now. */
  expiresInSeconds: number;
  /** The token's audience (a JWT's `aud`): who it is for. */
  audience?: string;
  /** Application permissions it carries (a JWT's `roles`, such as SMTP.SendAsApp). */
  roles?: string[];
}

function claims(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const json: unknown = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8"));
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 200) : undefined);

export function tokenFacts(token: AccessToken, now: number = Date.now()): TokenFacts {
  const c = claims(token.value);
  const audience = Array.isArray(c?.aud) ? c.aud.map(String).join(", ") : text(c?.aud);
  const roles = Array.isArray(c?.roles)
    ? c.roles.filter((r): r is string => typeof r === "string").slice(0, 20)
    : undefined;
  return {
    endpoint: token.endpoint,
    scope: token.scope,
    expiresInSeconds: Math.max(0, Math.round((token.expiresAt - now) / 1000)),
    ...(audience ? { audience } : {}),
    ...(roles?.length ? { roles } : {}),
  };
}
