/**
 * The token request each sign-in method makes, built from the settings: where it goes, what it
 * says, and which of its parts are secret (so no error or log can carry them).
 *
 * - oauth2-microsoft: the client-credentials grant at `login.microsoftonline.com/<tenant>`, the
 *   app's secret or a client assertion signed with its certificate, scope Exchange Online's
 *   `.default`; the mailbox (SMTPUsername) is named in XOAUTH2, not here.
 * - oauth2-google: the JWT bearer grant (RFC 7523): an assertion the service account signs,
 *   acting as SMTPUsername (domain-wide delegation), scope Gmail's.
 * - oauth2-generic: the client-credentials grant at OAuth2TokenEndpoint, the client
 *   authenticating with HTTP Basic (RFC 6749 2.3.1, which every server must accept).
 */
import { createPrivateKey } from "node:crypto";
import { type EmailSettings, type OAuth2Method, parseServiceAccountKey } from "../settings/index.ts";
import { certificateCredential, googleAssertion, microsoftClientAssertion } from "./assertion.ts";

export const MICROSOFT_SCOPE = "https://outlook.office365.com/.default";
export const GOOGLE_SCOPE = "https://mail.google.com/";
export const MICROSOFT_AUTHORITY = "https://login.microsoftonline.com";
export const GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token";

export interface TokenRequest {
  method: OAuth2Method;
  endpoint: URL;
  /** The form fields, urlencoded as the body. */
  form: Record<string, string>;
  /** Extra headers (HTTP Basic for oauth2-generic). */
  headers: Record<string, string>;
  /** What must never be shown: the client secret, the assertion, the Basic credentials. */
  secrets: string[];
  /** The scope asked for. */
  scope: string;
}

/** A setting the request needs cannot be used: the setting and why. */
export class CredentialSettingError extends Error {
  override readonly name = "CredentialSettingError";
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting} ${message}`);
    this.setting = setting;
  }
}

/** The token endpoint the settings name, or the provider's own. */
export function tokenEndpointOf(s: EmailSettings, method: OAuth2Method): string {
  if (s.OAuth2TokenEndpoint) return s.OAuth2TokenEndpoint;
  if (method === "oauth2-microsoft")
    return `${MICROSOFT_AUTHORITY}/${encodeURIComponent(s.OAuth2TenantId)}/oauth2/v2.0/token`;
  if (method === "oauth2-google") {
    const key = parseServiceAccountKey(s.OAuth2ServiceAccountKey);
    return ("token_uri" in key && key.token_uri) || GOOGLE_TOKEN_ENDPOINT;
  }
  return s.OAuth2TokenEndpoint;
}

export const scopeOf = (s: EmailSettings, method: OAuth2Method): string =>
  s.OAuth2Scope ||
  (method === "oauth2-microsoft" ? MICROSOFT_SCOPE : method === "oauth2-google" ? GOOGLE_SCOPE : "");

/** A certificate's key and thumbprint, once per value: parsing costs more than signing. */
let lastCertificate: { pem: string; credential: ReturnType<typeof certificateCredential> } | undefined;
function certificate(pem: string) {
  if (lastCertificate?.pem !== pem) {
    try {
      lastCertificate = { pem, credential: certificateCredential(pem) };
    } catch (error) {
      throw new CredentialSettingError("OAuth2ClientCertificate", (error as Error).message);
    }
  }
  return lastCertificate.credential;
}

/** The request for `method`, at `nowMs` (the assertions' times). Throws CredentialSettingError. */
export function tokenRequest(s: EmailSettings, method: OAuth2Method, nowMs: number): TokenRequest {
  const endpoint = new URL(tokenEndpointOf(s, method));
  const scope = scopeOf(s, method);
  const nowSeconds = Math.floor(nowMs / 1000);
  const withScope: Record<string, string> = scope ? { scope } : {};

  if (method === "oauth2-microsoft") {
    // The app proves itself with a client assertion signed with its certificate's key, or its secret.
    const credential: Record<string, string> = s.OAuth2ClientCertificate
      ? {
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: microsoftClientAssertion({
            clientId: s.OAuth2ClientId,
            audience: endpoint.href,
            ...certificate(s.OAuth2ClientCertificate),
            nowSeconds,
          }),
        }
      : { client_secret: s.OAuth2ClientSecret };
    return {
      method,
      endpoint,
      scope,
      headers: {},
      secrets: [credential.client_assertion ?? credential.client_secret ?? ""],
      form: { client_id: s.OAuth2ClientId, ...withScope, grant_type: "client_credentials", ...credential },
    };
  }

  if (method === "oauth2-google") {
    const account = parseServiceAccountKey(s.OAuth2ServiceAccountKey);
    if (!("client_email" in account))
      throw new CredentialSettingError("OAuth2ServiceAccountKey", account.rule);
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(account.private_key);
    } catch {
      throw new CredentialSettingError(
        "OAuth2ServiceAccountKey",
        "holds a private_key that cannot be read as PEM",
      );
    }
    const assertion = googleAssertion({
      clientEmail: account.client_email,
      ...(account.private_key_id ? { keyId: account.private_key_id } : {}),
      key,
      subject: s.SMTPUsername,
      scope,
      audience: endpoint.href,
      nowSeconds,
    });
    return {
      method,
      endpoint,
      scope,
      headers: {},
      secrets: [assertion],
      form: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion },
    };
  }

  const basic = Buffer.from(
    `${encodeURIComponent(s.OAuth2ClientId)}:${encodeURIComponent(s.OAuth2ClientSecret)}`,
  ).toString("base64");
  return {
    method,
    endpoint,
    scope,
    headers: { authorization: `Basic ${basic}` },
    secrets: [s.OAuth2ClientSecret, basic],
    form: { grant_type: "client_credentials", ...withScope },
  };
}
