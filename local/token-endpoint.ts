/**
 * An OAuth2 token endpoint on 127.0.0.1 that answers as Microsoft's identity platform and
 * Google's token endpoint do: the local run's stand-in for them (npm start signs in with every
 * OAuth2 method, no account needed), and the tests' real counterpart. The tokens are real JWTs,
 * signed by oauth2-mock-server (a real OAuth2 server implementation); what a provider checks
 * before it issues one, and its refusals word for word, are in local/provider-checks.ts:
 *
 * - `POST /<tenant>/oauth2/v2.0/token` and `POST /token`: Microsoft's client credentials;
 * - `POST /token`: Google's JWT bearer grant, and any client's credentials with HTTP Basic.
 *
 * `checkToken` is what a mail server does with the token XOAUTH2 brings: our signature, its
 * expiry, that it was not revoked, and who it lets send.
 */
import { createPublicKey, randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Events, OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";
import { loopbackRefusal } from "./loopback-only.ts";
import {
  type Form,
  generic,
  googleGrant,
  type MicrosoftApp,
  microsoft,
  type Registration,
  readJwt,
  type Verdict,
} from "./provider-checks.ts";

export type { GenericClient, GoogleServiceAccount, MicrosoftApp, Registration } from "./provider-checks.ts";

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
  /** Serve a Host that names this port too: a proxy on this machine in front of the endpoint. */
  allowProxyPort(port: number): void;
  /** A token XOAUTH2 brought for `user`: valid, unexpired, unrevoked, allowed to send as `user`. */
  checkToken(token: string, user: string): TokenCheck;
  /** Refuse this token from now on, as a provider does when its app is changed. */
  revoke(token: string): void;
  /** Answer the next token request with this status and body instead (an outage, garbage). */
  failNext(status: number, body: string): void;
  close(): Promise<void>;
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
  const proxyPorts = new Set<number>();

  const handle = async (req: IncomingMessage, res: Parameters<typeof service.requestHandler>[1]) => {
    // For this machine's programs only: no browser at all (token requests are forms, not JSON).
    const refused = loopbackRefusal(req, { json: false, proxyPorts });
    if (refused) {
      res
        .writeHead(403, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "access_denied", error_description: refused }));
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
    allowProxyPort(port) {
      proxyPorts.add(port);
    },
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
