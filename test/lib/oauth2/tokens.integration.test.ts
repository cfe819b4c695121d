/**
 * The container's access tokens against real HTTP servers: the token endpoint (oauth2-mock-server,
 * answering as the providers do) for the cache's promises, and hostile endpoints for what must not
 * be trusted: an answer too long, a token that would break the XOAUTH2 string, silence, garbage.
 */
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAccessTokens, TokenError, tokenEndpointOf, tokenFacts } from "../../../lib/oauth2/index.ts";
import { tokenRequest } from "../../../lib/oauth2/requests.ts";
import { type EmailSettings, resolveEmailSettings } from "../../../lib/settings/index.ts";
import { testCertificates } from "../../helpers/certs.ts";
import {
  CLIENT_ID,
  GENERIC_CLIENT,
  GENERIC_SECRET,
  GOOGLE_USER,
  SERVICE_ACCOUNT,
  signInSettings,
  startProvider,
  TENANT,
} from "../../helpers/oauth2.ts";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

const withDefaults = (over: Partial<EmailSettings>): EmailSettings => ({
  ...resolveEmailSettings([]).values,
  ...over,
});

async function provider() {
  const p = await startProvider();
  stops.push(() => p.endpoint.close());
  return p;
}

/** An endpoint that answers every request with `respond`. */
async function hostile(respond: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(respond);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
}

const generic = (endpoint: string) =>
  withDefaults({
    SMTPAuthMethod: "oauth2-generic",
    EnableSMTPAuth: true,
    OAuth2ClientId: GENERIC_CLIENT,
    OAuth2ClientSecret: GENERIC_SECRET,
    OAuth2TokenEndpoint: endpoint,
  });

describe("the cache", () => {
  it("asks once for many concurrent asks, and tells onToken of each token fetched", async () => {
    const p = await provider();
    const seen: string[] = [];
    const tokens = createAccessTokens({ onToken: (t) => seen.push(t) });
    const s = withDefaults(signInSettings(p.endpoint, "oauth2-microsoft"));
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.get(s, { timeoutMs: 2000 })));
    expect(new Set(all.map((t) => t.value)).size).toBe(1);
    expect(p.endpoint.requests).toBe(1);
    expect(seen).toEqual([all[0]?.value]);
  });

  it("a prefetch is the fetch the first ask shares", async () => {
    const p = await provider();
    const tokens = createAccessTokens();
    const s = withDefaults(signInSettings(p.endpoint, "oauth2-google"));
    tokens.prefetch(s, 2000);
    const token = await tokens.get(s, { timeoutMs: 2000 });
    expect(token.fromCache).toBe(false);
    expect(p.endpoint.requests).toBe(1);
    expect((await tokens.get(s, { timeoutMs: 2000 })).fromCache).toBe(true);
  });

  it("another client or secret never reuses a token", async () => {
    const p = await provider();
    const tokens = createAccessTokens();
    const s = withDefaults(signInSettings(p.endpoint, "oauth2-microsoft"));
    await tokens.get(s, { timeoutMs: 2000 });
    await expect(
      tokens.get({ ...s, OAuth2ClientSecret: "changed" }, { timeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: "AADSTS7000215",
    });
    expect(p.endpoint.requests).toBe(2);
  });

  it("what the connection test may say: audience, roles, lifetime; never the token", async () => {
    const p = await provider();
    const token = await createAccessTokens().get(
      withDefaults(signInSettings(p.endpoint, "oauth2-microsoft")),
      {
        timeoutMs: 2000,
      },
    );
    const facts = tokenFacts(token);
    expect(facts).toMatchObject({
      endpoint: p.endpoint.tokenUrl(TENANT),
      scope: "https://outlook.office365.com/.default",
      audience: "https://outlook.office.com",
      roles: ["SMTP.SendAsApp"],
    });
    expect(facts.expiresInSeconds).toBeGreaterThan(3500);
    expect(JSON.stringify(facts)).not.toContain(token.value);
  });
});

describe("the requests as each provider documents them", () => {
  it("Microsoft's endpoint is the tenant's, unless OAuth2TokenEndpoint names another", () => {
    const s = withDefaults({ SMTPAuthMethod: "oauth2-microsoft", OAuth2TenantId: TENANT });
    expect(tokenEndpointOf(s, "oauth2-microsoft")).toBe(
      `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
    );
    expect(
      tokenEndpointOf(
        { ...s, OAuth2TokenEndpoint: "https://login.microsoftonline.us/x/oauth2/v2.0/token" },
        "oauth2-microsoft",
      ),
    ).toBe("https://login.microsoftonline.us/x/oauth2/v2.0/token");
  });

  it("Microsoft's client assertion: PS256, named by the certificate's SHA-256 thumbprint, for the endpoint", () => {
    const certs = testCertificates();
    const s = withDefaults({
      SMTPAuthMethod: "oauth2-microsoft",
      OAuth2TenantId: TENANT,
      OAuth2ClientId: CLIENT_ID,
      OAuth2ClientCertificate: `${certs.app.key}\n${certs.app.cert}`,
    });
    const request = tokenRequest(s, "oauth2-microsoft", Date.parse("2026-12-06T10:00:00Z"));
    const jwt = request.form.client_assertion as string;
    const [h, p, sig] = jwt.split(".") as [string, string, string];
    const header = JSON.parse(Buffer.from(h, "base64url").toString());
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const cert = new X509Certificate(certs.app.cert);
    expect(header).toMatchObject({ alg: "PS256", typ: "JWT" });
    expect(header["x5t#S256"]).toBe(createHash("sha256").update(cert.raw).digest("base64url"));
    expect(claims).toMatchObject({
      aud: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      nbf: 1796551200,
      exp: 1796551800,
    });
    const pss = { key: cert.publicKey, padding: 6, saltLength: -1 };
    expect(verify("sha256", Buffer.from(`${h}.${p}`), pss, Buffer.from(sig, "base64url"))).toBe(true);
    expect(request.form).toMatchObject({
      client_id: CLIENT_ID,
      grant_type: "client_credentials",
      scope: "https://outlook.office365.com/.default",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(request.form.client_secret).toBeUndefined();
  });

  it("Google's assertion: RS256 by the service account, acting as SMTPUsername, an hour at most", () => {
    const key = JSON.stringify(SERVICE_ACCOUNT);
    const s = withDefaults({
      SMTPAuthMethod: "oauth2-google",
      SMTPUsername: GOOGLE_USER,
      OAuth2ServiceAccountKey: key,
    });
    const request = tokenRequest(s, "oauth2-google", Date.parse("2026-12-06T10:00:00Z"));
    expect(request.endpoint.href).toBe("https://oauth2.googleapis.com/token");
    const [h, p, sig] = (request.form.assertion as string).split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({
      alg: "RS256",
      typ: "JWT",
      kid: SERVICE_ACCOUNT.private_key_id,
    });
    expect(JSON.parse(Buffer.from(p, "base64url").toString())).toEqual({
      iss: SERVICE_ACCOUNT.client_email,
      sub: GOOGLE_USER,
      scope: "https://mail.google.com/",
      aud: "https://oauth2.googleapis.com/token",
      iat: 1796551200,
      exp: 1796554800,
    });
    const publicKey = createPublicKey(SERVICE_ACCOUNT.private_key);
    expect(verify("sha256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, "base64url"))).toBe(true);
    expect(request.form.grant_type).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
  });
});

describe("an endpoint is not trusted", () => {
  const ask = (endpoint: string, timeoutMs = 1000) =>
    createAccessTokens().get(generic(endpoint), { timeoutMs });

  it("an answer longer than a token answer is refused", async () => {
    const url = await hostile((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"access_token":"${"a".repeat(200_000)}"}`);
    });
    await expect(ask(url)).rejects.toMatchObject({ code: "EANSWERTOOLARGE", transient: false });
  });

  it("a token that would end XOAUTH2's field (a control character) is refused", async () => {
    const url = await hostile((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: "abc\u0001auth=Bearer evil", expires_in: 3600 }));
    });
    await expect(ask(url)).rejects.toMatchObject({ code: "EBADTOKEN", transient: false });
  });

  it("silence ends at the deadline, as a transient failure", async () => {
    const url = await hostile(() => {});
    const started = performance.now();
    const error = await ask(url, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: "ETIMEDOUT", transient: true });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("a refused connection is transient; an endpoint that echoes the secret never shows it", async () => {
    await expect(ask("http://127.0.0.1:9/token")).rejects.toMatchObject({
      code: "ECONNREFUSED",
      transient: true,
    });
    const url = await hostile((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_client", error_description: `bad secret ${GENERIC_SECRET}` }));
    });
    const error = (await ask(url).catch((e: unknown) => e)) as TokenError;
    expect(error.code).toBe("invalid_client");
    expect(JSON.stringify({ ...error.toJSON(), response: error.response })).not.toContain(GENERIC_SECRET);
  });
});
