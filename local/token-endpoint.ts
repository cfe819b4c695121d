/**
 * An OAuth2 token endpoint on 127.0.0.1 that answers as Microsoft's identity platform and
 * Google's token endpoint do: the local run's stand-in for them (npm start signs in with every
 * OAuth2 method, no account needed), and the tests' real counterpart. The tokens are real JWTs,
 * signed by oauth2-mock-server (a real OAuth2 server implementation); this file adds what a
 * provider checks before it issues one, and its refusals word for word:
 *
 * - `POST /<tenant>/oauth2/v2.0/token` and `POST /token`, Microsoft's client credentials: the
 *   tenant, the app, its scope, then a secret (current or expired) or a client assertion signed
 *   with a registered certificate (PS256 or RS256, `x5t#S256` or `x5t`), its audience and times,
 *   with AADSTS errors shaped as Microsoft's (error, error_description, error_codes, trace ids).
 * - `POST /token`, Google's JWT bearer grant: the service account's signature, the audience, a
 *   lifetime of at most an hour, the delegated scope and the user, with Google's invalid_grant
 *   and unauthorized_client.
 * - `POST /token`, any client credentials with HTTP Basic (RFC 6749).
 *
 * `checkToken` is what a mail server does with the token XOAUTH2 brings: our signature, its
 * expiry, that it was not revoked, and who it lets send.
 *
 * One file on purpose (a little over 250 lines): the three providers' checks share the request
 * parsing, the JWT verification and the error shapes, and read best side by side.
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
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Events, OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

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

export interface TokenEndpointOptions {
  /** Who may ask; read on every request, so the local run follows its settings. */
  registrations: () => readonly Registration[] | Promise<readonly Registration[]>;
  /** Serve HTTPS with this key and certificate. Default: HTTP (on 127.0.0.1 only). */
  tls?: { key: string; cert: string };
  /** Seconds a token is valid. Default 3599, as Microsoft and Google answer. */
  lifetimeSeconds?: number;
  port?: number;
}

export type TokenCheck =
  | { ok: true; kind: Registration["kind"]; subject: string }
  /** What the mail server answers: Microsoft's 535 5.7.3, or Google's XOAUTH2 error challenge. */
  | { ok: false; reason: string };

export interface TokenEndpoint {
  /** Where it listens, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Microsoft's token URL for a tenant; `url + /token` for the others. */
  tokenUrl(tenant?: string): string;
  /** The token requests answered so far (issued or refused). */
  readonly requests: number;
  /** Tokens issued so far. */
  readonly issued: number;
  /** A token XOAUTH2 brought for `user`: valid, unexpired, unrevoked, allowed to send as `user`. */
  checkToken(token: string, user: string): TokenCheck;
  /** Refuse this token from now on, as a provider does when its app is changed. */
  revoke(token: string): void;
  /** Answer the next token request with this status and body instead (an outage, garbage). */
  failNext(status: number, body: string): void;
  close(): Promise<void>;
}

type Form = Record<string, string | undefined>;
type Verdict = { status: number; body: Record<string, unknown> } | { claims: Record<string, unknown> };

const b64json = (part: string | undefined): Record<string, unknown> => {
  try {
    return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
};
const publicKeyOf = (pem: string): KeyObject => createPublicKey(pem);

/** A JWT's header and claims, and whether `key` signed it (RS256, or PS256). */
function readJwt(jwt: string, key?: KeyObject) {
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

function microsoft(form: Form, tenant: string | undefined, url: string, apps: MicrosoftApp[]): Verdict {
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

function googleGrant(form: Form, url: string, accounts: GoogleServiceAccount[]): Verdict {
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

function generic(req: IncomingMessage, form: Form, clients: GenericClient[]): Verdict {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const [id, secret] = basic
    ? Buffer.from(basic, "base64").toString("utf8").split(":").map(decodeURIComponent)
    : [form.client_id, form.client_secret];
  const client = clients.find((c) => c.clientId === id && c.secret === secret);
  if (!client) return google(401, "invalid_client", "Client authentication failed");
  return { claims: { sub: client.clientId, scope: form.scope ?? "", client_id: client.clientId } };
}

export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TokenEndpoint> {
  const issuer = new OAuth2Issuer();
  await issuer.keys.generate("RS256");
  const service = new OAuth2Service(issuer);
  const lifetime = options.lifetimeSeconds ?? 3599;
  const revoked = new Set<string>();
  const kinds = new Map<string, Registration["kind"]>();
  let requests = 0;
  let issued = 0;
  let failure: { status: number; body: string } | undefined;
  const verdicts = new WeakMap<IncomingMessage, Verdict>();
  /** What was registered when the last request came: what a mail server checks tokens against. */
  let registered: readonly Registration[] = [];
  let base = "";

  // Decide before the token is signed (the claims go into it), answer after.
  service.on(
    Events.BeforeTokenSigning,
    (token: { payload: Record<string, unknown> }, req: IncomingMessage & { body: Form }) => {
      const all = registered;
      const form = req.body;
      const tenant = (req as IncomingMessage & { tenant?: string }).tenant;
      const url = `${base}${tenant === undefined ? "/token" : `/${tenant}/oauth2/v2.0/token`}`;
      const of = <K extends Registration["kind"]>(kind: K) =>
        all.filter((r): r is Extract<Registration, { kind: K }> => r.kind === kind);
      const verdict =
        form.grant_type === "urn:ietf:params:oauth:grant-type:jwt-bearer"
          ? googleGrant(form, url, of("google"))
          : req.headers.authorization
            ? generic(req, form, of("generic"))
            : microsoft(form, tenant, url, of("microsoft"));
      verdicts.set(req, verdict);
      if ("claims" in verdict) {
        // Each token unique, as a provider's are (Microsoft's carry `uti`, Google's are opaque).
        Object.assign(token.payload, verdict.claims, {
          exp: Math.floor(Date.now() / 1000) + lifetime,
          jti: randomUUID(),
        });
      }
    },
  );
  service.on(
    Events.BeforeResponse,
    (response: { statusCode: number; body: Record<string, unknown> }, req: IncomingMessage) => {
      const verdict = verdicts.get(req);
      if (verdict && "status" in verdict) {
        response.statusCode = verdict.status;
        response.body = verdict.body;
        return;
      }
      issued++;
      response.body = {
        token_type: "Bearer",
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: response.body.access_token,
      };
      const token = String(response.body.access_token);
      const kind =
        form(req).grant_type === "urn:ietf:params:oauth:grant-type:jwt-bearer"
          ? "google"
          : req.headers.authorization
            ? "generic"
            : "microsoft";
      kinds.set(token, kind);
    },
  );
  const form = (req: IncomingMessage) => (req as IncomingMessage & { body: Form }).body;

  const handle = async (req: IncomingMessage, res: Parameters<typeof service.requestHandler>[1]) => {
    // For this machine's programs only: never a web page (browsers send Origin), never a
    // rebinding name.
    const host = req.headers.host ?? "";
    if (req.headers.origin !== undefined || !/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host)) {
      res.writeHead(403, { "content-type": "application/json" }).end('{"error":"access_denied"}');
      return;
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const tenant = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path)?.[1];
    if (req.method === "POST" && (tenant !== undefined || path === "/token")) {
      requests++;
      registered = await options.registrations();
      if (failure) {
        const { status, body } = failure;
        failure = undefined;
        res.writeHead(status, { "content-type": "application/json" }).end(body);
        return;
      }
      if (tenant !== undefined) {
        (req as IncomingMessage & { tenant?: string }).tenant = decodeURIComponent(tenant);
        req.url = "/token";
      }
    }
    service.requestHandler(req, res);
  };
  const listener = (req: IncomingMessage, res: Parameters<typeof service.requestHandler>[1]) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const scheme = options.tls ? "https" : "http";
  base = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = base;
  const [jwk] = issuer.keys.toJSON();
  const signingKey = createPublicKey({ key: jwk as never, format: "jwk" });

  return {
    url: base,
    tokenUrl: (tenant) => (tenant === undefined ? `${base}/token` : `${base}/${tenant}/oauth2/v2.0/token`),
    get requests() {
      return requests;
    },
    get issued() {
      return issued;
    },
    checkToken(token, user) {
      const { claims, valid } = readJwt(token, signingKey);
      const kind = kinds.get(token);
      if (!valid || claims.iss !== base || !kind)
        return { ok: false, reason: "not a token of this endpoint" };
      if (revoked.has(token)) return { ok: false, reason: "revoked" };
      if (Number(claims.exp) < Date.now() / 1000) return { ok: false, reason: "expired" };
      if (kind === "microsoft") {
        const app = registered.find(
          (r): r is MicrosoftApp => r.kind === "microsoft" && r.clientId === claims.appid,
        );
        const roles = claims.roles as unknown;
        if (
          !Array.isArray(roles) ||
          !roles.includes("SMTP.SendAsApp") ||
          (app?.mailboxes && !app.mailboxes.includes(user))
        )
          return { ok: false, reason: `the app has no access to the mailbox ${user}` };
      }
      if (
        kind === "google" &&
        (claims.sub !== user || !String(claims.scope).split(" ").includes("https://mail.google.com/"))
      )
        return { ok: false, reason: `the token is not for ${user} with https://mail.google.com/` };
      return { ok: true, kind, subject: String(claims.sub) };
    },
    revoke: (token) => revoked.add(token),
    failNext(status, body) {
      failure = { status, body };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
