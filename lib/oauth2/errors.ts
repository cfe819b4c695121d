/**
 * TokenError: a token endpoint's refusal, or no answer from it, as one typed error that says which
 * provider refused, its own code (an AADSTS number, an OAuth2 error such as invalid_grant, a
 * network code), whether trying again later may help, and what to change, as the SMTP stages'
 * errors do. The endpoint's own words are kept (first line only, secrets removed); the request's
 * secrets and the token never are.
 */
import type { OAuth2Method } from "../settings/index.ts";

export interface TokenErrorDetails {
  method: OAuth2Method;
  /** AADSTS7000215, invalid_grant, unauthorized_client, HTTP503, ETIMEDOUT, EOAUTH2KEY… */
  code: string;
  /** Worth trying again later (no answer, 429, 5xx) as opposed to a refusal of the settings. */
  transient: boolean;
  /** The token endpoint, without query or credentials. */
  endpoint: string;
  /** The HTTP status, when it answered. */
  status?: number;
  /** The endpoint's first line of explanation (error_description), secrets removed. */
  response?: string;
  cause?: unknown;
}

export class TokenError extends Error {
  override readonly name = "TokenError";
  readonly method: OAuth2Method;
  readonly code: string;
  readonly transient: boolean;
  readonly endpoint: string;
  readonly status?: number;
  readonly response?: string;

  /** `message` is one line an operator can act on. */
  constructor(message: string, details: TokenErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.method = details.method;
    this.code = details.code;
    this.transient = details.transient;
    this.endpoint = details.endpoint;
    if (details.status !== undefined) this.status = details.status;
    if (details.response !== undefined) this.response = details.response;
  }

  toJSON() {
    return {
      name: this.name,
      code: this.code,
      transient: this.transient,
      endpoint: this.endpoint,
      ...(this.status === undefined ? {} : { status: this.status }),
      message: this.message,
    };
  }
}

/**
 * What to change for the replies operators meet, by the provider's code. Microsoft's AADSTS codes
 * (login.microsoftonline.com's error_codes), then the OAuth2 errors Google and others answer with.
 */
const MICROSOFT_FIXES: Record<string, string> = {
  AADSTS7000215:
    "OAuth2ClientSecret is not a secret of this app: store the secret's Value (not its Secret ID) from the app registration's Certificates & secrets",
  AADSTS7000222:
    "the app's client secret has expired: add a new one under Certificates & secrets and store it in OAuth2ClientSecret (or sign in with OAuth2ClientCertificate, which expires less often)",
  AADSTS700016:
    "no application with OAuth2ClientId exists in the tenant OAuth2TenantId: check both IDs on the app registration's Overview, and that the app is registered in that tenant",
  AADSTS90002:
    "the tenant OAuth2TenantId does not exist: use the Directory (tenant) ID from the app registration's Overview",
  AADSTS900023:
    "OAuth2TenantId is not a tenant: use the Directory (tenant) ID from the app registration's Overview",
  AADSTS700027:
    "the certificate in OAuth2ClientCertificate is not registered on the app, or its key does not match it: upload that certificate under Certificates & secrets",
  AADSTS700024:
    "the signed client assertion is outside its valid time: this machine's clock is off; correct it (Lambda's clock is synchronised)",
  AADSTS1002012:
    "OAuth2Scope is not valid for an app's own token: leave it empty for https://outlook.office365.com/.default",
  AADSTS70011: "OAuth2Scope is not valid: leave it empty for https://outlook.office365.com/.default",
  AADSTS7000112: "the app is disabled in the tenant: enable it under Enterprise applications > Properties",
  AADSTS500011:
    "the resource of OAuth2Scope is not in the tenant: leave OAuth2Scope empty for Exchange Online's",
};

function oauthFix(method: OAuth2Method, error: string, description: string): string | undefined {
  if (method === "oauth2-google") {
    if (error === "unauthorized_client")
      return "the service account may not act as a user for https://mail.google.com/: in the Admin console (Security > Access and data control > API controls > Domain-wide delegation) add its client ID with the scope https://mail.google.com/";
    if (error === "invalid_grant" && /signature/i.test(description))
      return "Google does not accept the key's signature: the key in OAuth2ServiceAccountKey was deleted or disabled; create a new key for the service account and store it";
    if (error === "invalid_grant" && /short-lived|timeframe|iat|exp/i.test(description))
      return "Google refused the assertion's times: this machine's clock is off; correct it";
    if (error === "invalid_grant" && /email|user|sub/i.test(description))
      return "SMTPUsername is not a user of the service account's Google Workspace domain: set it to the mailbox to send as";
    if (error === "invalid_grant")
      return "Google refused the service account's assertion: check OAuth2ServiceAccountKey is a current key, and SMTPUsername a user of the domain";
  }
  if (error === "invalid_client")
    return "the token endpoint does not accept OAuth2ClientId with this secret: check OAuth2ClientId and OAuth2ClientSecret";
  if (error === "unauthorized_client")
    return "the client may not use the client-credentials grant: allow it at the token endpoint";
  if (error === "invalid_scope") return "OAuth2Scope is not a scope this client may ask for";
  return undefined;
}

/** The fix for a refusal the provider explained, or undefined when it is not one we know. */
export function fixFor(
  method: OAuth2Method,
  code: string,
  error: string,
  description: string,
): string | undefined {
  return (
    (method === "oauth2-microsoft" ? MICROSOFT_FIXES[code] : undefined) ??
    oauthFix(method, error, description)
  );
}

export const PROVIDER_WORDS: Record<OAuth2Method, string> = {
  "oauth2-microsoft": "Microsoft's token endpoint",
  "oauth2-google": "Google's token endpoint",
  "oauth2-generic": "the token endpoint",
};
