/**
 * What a provider's token endpoint checks before it issues a token, and how it refuses, word for
 * word: Microsoft's client credentials (the tenant, the app, the scope, a secret current or
 * expired, or a client assertion signed with a registered certificate: PS256 or RS256, named by
 * `x5t#S256` or `x5t`, for this endpoint, in its time), with AADSTS errors shaped as Microsoft's
 * (error, error_description, error_codes, trace ids); Google's JWT bearer grant (the service
 * account's signature, the audience, an hour at most, the delegated scope, the user), with its
 * invalid_grant and unauthorized_client; any client's credentials over HTTP Basic. Each check
 * answers a verdict: the token's claims, or the refusal (local/token-endpoint.ts serves them).
 */
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  type KeyObject,
  randomUUID,
  verify,
  X509Certificate,
} from "node:crypto";
import type { IncomingMessage } from "node:http";

/** An app registered in Microsoft Entra ID with Exchange Online's SMTP.SendAsApp. */
export interface MicrosoftApp {
  kind: "microsoft";
  /** The directory (tenant) ID, and its domains. */
  tenants: string[];
  clientId: string;
  secrets?: Array<{ value: string; expired?: boolean }>;
  /** PEM certificates uploaded to the app. */
  certificates?: string[];
  /** Mailboxes the app was given FullAccess on; unset: any. */
  mailboxes?: string[];
}

/** A Google service account, perhaps with domain-wide delegation. */
export interface GoogleServiceAccount {
  kind: "google";
  clientEmail: string;
  /** The public half of its key (PEM, or the private key, whose public half is taken). */
  key: string;
  /** Scopes delegated to it in the Admin console. */
  delegatedScopes: string[];
  /** The domain's users it may act as; unset: any. */
  users?: string[];
}

/** Any client with a secret (HTTP Basic). */
export interface GenericClient {
  kind: "generic";
  clientId: string;
  secret: string;
}

export type Registration = MicrosoftApp | GoogleServiceAccount | GenericClient;

export type Form = Record<string, string | undefined>;
export type Verdict = { status: number; body: Record<string, unknown> } | { claims: Record<string, unknown> };

const b64json = (part: string | undefined): Record<string, unknown> => {
  try {
    return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
};
const publicKeyOf = (pem: string): KeyObject => createPublicKey(pem);

/** A JWT's header and claims, and whether `key` signed it (RS256, or PS256). */
export function readJwt(jwt: string, key?: KeyObject) {
  const [h, p, s] = jwt.split(".");
  const header = b64json(h);
  const claims = b64json(p);
  const signed = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s ?? "", "base64url");
  const pss = {
    padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
    saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST,
  };
  const valid =
    key !== undefined &&
    (header.alg === "PS256"
      ? verify("sha256", signed, { key, ...pss }, signature)
      : header.alg === "RS256" && verify("sha256", signed, key, signature));
  return { header, claims, valid };
}

/** Microsoft's error body: the AADSTS code first in the description, trace ids after. */
function aadsts(status: number, error: string, code: number, text: string): Verdict {
  const trace = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z/, "Z");
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${randomUUID()} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: randomUUID(),
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}
const google = (status: number, error: string, description: string): Verdict => ({
  status,
  body: { error, error_description: description },
});

export function microsoft(
  form: Form,
  tenant: string | undefined,
  url: string,
  apps: MicrosoftApp[],
): Verdict {
  if (tenant !== undefined && !apps.some((a) => a.tenants.includes(tenant)))
    return aadsts(
      400,
      "invalid_request",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  const app = apps.find(
    (a) => a.clientId === form.client_id && (tenant === undefined || a.tenants.includes(tenant)),
  );
  if (!app)
    return aadsts(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${form.client_id}' was not found in the directory '${tenant ?? "the tenant"}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  if (!form.scope?.endsWith("/.default"))
    return aadsts(
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${form.scope ?? ""} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  if (form.client_secret !== undefined) {
    const secret = app.secrets?.find((s) => s.value === form.client_secret);
    if (!secret)
      return aadsts(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    if (secret.expired)
      return aadsts(
        401,
        "invalid_client",
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
  } else if (form.client_assertion !== undefined) {
    const { header } = readJwt(form.client_assertion);
    const cert = (app.certificates ?? [])
      .map((pem) => new X509Certificate(pem))
      .find((c) => {
        const s256 = createHash("sha256").update(c.raw).digest("base64url");
        const s1 = createHash("sha1").update(c.raw).digest("base64url");
        return header["x5t#S256"] === s256 || header.x5t === s1;
      });
    const notRegistered =
      "The certificate with identifier used to sign the client assertion is not registered on application.";
    if (!cert)
      return aadsts(401, "invalid_client", 700027, `${notRegistered} [Reason - The key was not found.]`);
    const { claims, valid } = readJwt(form.client_assertion, cert.publicKey);
    if (!valid)
      return aadsts(401, "invalid_client", 700027, "Client assertion contains an invalid signature.");
    const now = Date.now() / 1000;
    if (claims.aud !== url || claims.iss !== app.clientId || claims.sub !== app.clientId)
      return aadsts(
        401,
        "invalid_client",
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter, or its audience is not this endpoint.",
      );
    if (
      typeof claims.exp !== "number" ||
      claims.exp < now ||
      (typeof claims.nbf === "number" && claims.nbf > now + 300)
    )
      return aadsts(401, "invalid_client", 700024, "Client assertion is not within its valid time range.");
  } else {
    return aadsts(
      400,
      "invalid_request",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  return {
    claims: {
      aud: "https://outlook.office.com",
      roles: ["SMTP.SendAsApp"],
      appid: app.clientId,
      tid: app.tenants[0],
      sub: app.clientId,
    },
  };
}

export function googleGrant(form: Form, url: string, accounts: GoogleServiceAccount[]): Verdict {
  const { claims: unverified } = readJwt(form.assertion ?? "");
  const account = accounts.find((a) => a.clientEmail === unverified.iss);
  const { claims, valid } = readJwt(form.assertion ?? "", account ? publicKeyOf(account.key) : undefined);
  if (!account || !valid) return google(400, "invalid_grant", "Invalid JWT Signature.");
  const now = Date.now() / 1000;
  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  if (claims.aud !== url) return google(400, "invalid_grant", "Invalid JWT: Failed audience check.");
  if (!(exp - iat <= 3600 && iat <= now + 300 && exp >= now))
    return google(
      400,
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  const scopes = String(claims.scope ?? "").split(" ");
  if (!scopes.every((s) => account.delegatedScopes.includes(s)))
    return google(
      401,
      "unauthorized_client",
      "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
    );
  if (typeof claims.sub !== "string" || (account.users && !account.users.includes(claims.sub)))
    return google(400, "invalid_grant", "Invalid email or User ID");
  return { claims: { sub: claims.sub, scope: claims.scope, azp: account.clientEmail } };
}

export function generic(req: IncomingMessage, form: Form, clients: GenericClient[]): Verdict {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const [id, secret] = basic
    ? Buffer.from(basic, "base64").toString("utf8").split(":").map(decodeURIComponent)
    : [form.client_id, form.client_secret];
  const client = clients.find((c) => c.clientId === id && c.secret === secret);
  if (!client) return google(401, "invalid_client", "Client authentication failed");
  return { claims: { sub: client.clientId, scope: form.scope ?? "", client_id: client.clientId } };
}
