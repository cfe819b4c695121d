/**
 * Signing in with SASL XOAUTH2 against real servers: an `smtp-server` that accepts only tokens
 * the token endpoint issued (checked as a provider's mail server checks them), the endpoint a real
 * OAuth2 server (local/token-endpoint.ts on oauth2-mock-server) that answers as Microsoft's and
 * Google's do. Each method sends a real message; each refusal becomes a typed error naming its
 * stage, code and fix; no secret or token appears in any of it.
 */
import { describe, expect, it } from "vitest";
import { createAccessTokens } from "../../../lib/oauth2/index.ts";
import { createMailer, SmtpStageError } from "../../../lib/smtp/index.ts";
import { testCertificates } from "../../helpers/certs.ts";
import {
  appCertificate,
  EXPIRED_SECRET,
  GOOGLE_USER,
  MAILBOX,
  OAUTH2_SECRETS,
  type Provider,
  signInSettings,
  startProvider,
} from "../../helpers/oauth2.ts";
import { perTest } from "../../helpers/per-test.ts";
import { message, settings } from "./fixtures.ts";

const certs = testCertificates();
const { defer, smtpServer } = perTest();

async function world(
  refusal: "microsoft" | "google" = "microsoft",
  lifetimeSeconds?: number,
  echoCredentials = false,
) {
  const provider = await startProvider(lifetimeSeconds ? { lifetimeSeconds } : {});
  defer(() => provider.endpoint.close());
  const tokensSeen: string[] = [];
  const server = await smtpServer({
    tls: certs.server,
    echoCredentials,
    xoauth2: {
      refusal,
      check: (token, user) => {
        tokensSeen.push(token);
        return provider.endpoint.checkToken(token, user);
      },
    },
  });
  return { provider, server, tokensSeen };
}

/** Sends one message and returns what went wrong, or undefined. */
async function send(s: ReturnType<typeof settings>, tokens = createAccessTokens()) {
  const mailer = createMailer(s, { ca: certs.ca, tokens, preconnected: false });
  try {
    await mailer.send(message);
    return undefined;
  } catch (error) {
    return error as SmtpStageError;
  } finally {
    await mailer.close();
  }
}

function expectNoSecretIn(text: string, tokens: readonly string[]) {
  for (const secret of [...OAUTH2_SECRETS, ...tokens, certs.app.key.split("\n")[2] as string]) {
    expect(text).not.toContain(secret);
  }
}

describe("XOAUTH2 sends a real message", () => {
  it.each([
    ["oauth2-microsoft", MAILBOX],
    ["oauth2-microsoft-certificate", MAILBOX],
    ["oauth2-google", GOOGLE_USER],
    ["oauth2-generic", "mailer@example.com"],
  ] as const)("with %s, signed in as %s with a token the endpoint issued", async (method, user) => {
    const { provider, server, tokensSeen } = await world();
    const error = await send(
      settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, method) }),
    );
    expect(error).toBeUndefined();
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]).toMatchObject({ secure: true, user });
    expect(server.authAttempts).toEqual(["XOAUTH2"]);
    expect(tokensSeen).toHaveLength(1);
    expect(provider.endpoint.checkToken(tokensSeen[0] as string, user)).toMatchObject({ ok: true });
  });
});

describe("the token cache", () => {
  it("fetches one token for many sessions of one container", async () => {
    const { provider, server } = await world();
    const s = settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-microsoft") });
    const tokens = createAccessTokens();
    for (let i = 0; i < 3; i++) expect(await send(s, tokens)).toBeUndefined();
    expect(server.messages).toHaveLength(3);
    expect(provider.endpoint.issued).toBe(1);
  });

  it("fetches a new token shortly before the cached one expires", async () => {
    const { provider, server } = await world("microsoft", 3600);
    const s = settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-generic") });
    let now = Date.now();
    const tokens = createAccessTokens({ now: () => now });
    expect(await send(s, tokens)).toBeUndefined();
    now += 54 * 60_000; // 6 minutes left: still used
    expect(await send(s, tokens)).toBeUndefined();
    expect(provider.endpoint.issued).toBe(1);
    now += 2 * 60_000; // 4 minutes left: fetched again
    expect(await send(s, tokens)).toBeUndefined();
    expect(provider.endpoint.issued).toBe(2);
  });

  it.each(["microsoft", "google"] as const)(
    "fetches a new token once when the %s server refuses the cached one, and sends",
    async (refusal) => {
      const { provider, server, tokensSeen } = await world(refusal);
      const method = refusal === "google" ? "oauth2-google" : "oauth2-microsoft";
      const s = settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, method) });
      const tokens = createAccessTokens();
      expect(await send(s, tokens)).toBeUndefined();
      provider.endpoint.revoke(tokensSeen[0] as string);
      expect(await send(s, tokens)).toBeUndefined();
      expect(provider.endpoint.issued).toBe(2);
      expect(server.messages).toHaveLength(2);
      expect(server.authAttempts).toEqual(["XOAUTH2", "XOAUTH2", "XOAUTH2"]);
    },
  );

  it("a new token the endpoint refuses is the token stage's error, with the endpoint's own code", async () => {
    const { provider, server, tokensSeen } = await world();
    const s = settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-microsoft") });
    const tokens = createAccessTokens();
    expect(await send(s, tokens)).toBeUndefined();
    provider.endpoint.revoke(tokensSeen[0] as string);
    provider.endpoint.failNext(
      401,
      JSON.stringify({
        error: "invalid_client",
        error_description: "AADSTS7000222: The provided client secret keys for app are expired.",
      }),
    );
    const error = await send(s, tokens);
    expect(error).toMatchObject({ stage: "token", code: "AADSTS7000222", transient: false });
    expect(error?.message).toMatch(/has expired/);
    expectNoSecretIn(
      JSON.stringify({ ...error?.toJSON(), response: error?.response, message: error?.message }),
      tokensSeen,
    );
  });

  it("does not ask again when a token fetched for this session is refused: the refusal is the answer", async () => {
    const { provider, server } = await world();
    provider.registered = provider.registered.map((r) =>
      r.kind === "microsoft" ? { ...r, mailboxes: ["someone@else.example"] } : r,
    );
    const error = await send(
      settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-microsoft") }),
    );
    expect(error).toBeInstanceOf(SmtpStageError);
    expect(error).toMatchObject({ stage: "auth", responseCode: 535, transient: false });
    expect(error?.message).toMatch(
      /rejected the oauth2-microsoft access token for notifications@contoso\.example/,
    );
    expect(error?.message).toMatch(/SMTP\.SendAsApp.*New-ServicePrincipal.*Add-MailboxPermission/);
    expect(provider.endpoint.issued).toBe(1);
    expect(server.messages).toHaveLength(0);
  });
});

describe("a token never leaves lib/ in any form it travelled in", () => {
  it("a server that quotes the token and the XOAUTH2 string in its refusal: both are scrubbed from the error", async () => {
    const { provider, server, tokensSeen } = await world("microsoft", undefined, true);
    provider.registered = provider.registered.map((r) =>
      r.kind === "microsoft" ? { ...r, mailboxes: [] } : r,
    );
    const error = await send(
      settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-microsoft") }),
    );
    expect(error?.response).toMatch(/\[redacted\] \[redacted\]$/);
    expectNoSecretIn(
      JSON.stringify({ ...error?.toJSON(), response: error?.response, message: error?.message }),
      tokensSeen,
    );
  });
});

describe("a token endpoint's refusal is the token stage's typed error, with the fix", () => {
  const cases: Array<[string, (p: Provider) => Record<string, unknown>, RegExp, RegExp]> = [
    [
      "AADSTS7000215",
      () => ({ OAuth2ClientSecret: "not-the-secret" }),
      /AADSTS7000215/,
      /secret's Value \(not its Secret ID\)/,
    ],
    ["AADSTS7000222", () => ({ OAuth2ClientSecret: EXPIRED_SECRET }), /AADSTS7000222/, /has expired/],
    [
      "AADSTS700016",
      () => ({ OAuth2ClientId: "11111111-2222-4333-8444-555555555555" }),
      /AADSTS700016/,
      /no application with OAuth2ClientId/,
    ],
    [
      "AADSTS90002",
      (p) => ({
        OAuth2TenantId: "contoso.example",
        OAuth2TokenEndpoint: p.endpoint.tokenUrl("contoso.example"),
      }),
      /AADSTS90002/,
      /tenant OAuth2TenantId does not exist/,
    ],
    [
      "AADSTS1002012",
      () => ({ OAuth2Scope: "https://outlook.office365.com/SMTP.Send" }),
      /AADSTS1002012/,
      /OAuth2Scope is not valid/,
    ],
  ];
  it.each(cases)("Microsoft's %s", async (_code, change, code, fix) => {
    const { provider, server } = await world();
    const error = await send(
      settings({
        SMTPPort: server.port,
        ...signInSettings(provider.endpoint, "oauth2-microsoft"),
        ...change(provider),
      }),
    );
    expect(error).toMatchObject({ stage: "token", transient: false });
    expect(error?.code).toMatch(code);
    expect(error?.message).toMatch(fix);
    expect(server.authAttempts).toEqual([]);
    expectNoSecretIn(JSON.stringify({ ...error?.toJSON(), response: error?.response }), []);
  });

  it("Microsoft's AADSTS700027 for a certificate the app does not have", async () => {
    const { provider, server } = await world();
    provider.registered = provider.registered.map((r) =>
      r.kind === "microsoft" ? { ...r, certificates: [] } : r,
    );
    const error = await send(
      settings({
        SMTPPort: server.port,
        ...signInSettings(provider.endpoint, "oauth2-microsoft-certificate"),
      }),
    );
    expect(error).toMatchObject({ stage: "token", code: "AADSTS700027", transient: false });
    expect(error?.message).toMatch(/not registered on the app/);
  });

  it("a certificate whose key is not its own is refused before anything is sent", async () => {
    const { provider, server } = await world();
    const mismatched = `${certs.server.key}\n${certs.app.cert}`;
    const error = await send(
      settings({
        SMTPPort: server.port,
        ...signInSettings(provider.endpoint, "oauth2-microsoft-certificate"),
        OAuth2ClientCertificate: mismatched,
      }),
    );
    expect(error).toMatchObject({ stage: "token", code: "EOAUTH2KEY", transient: false });
    expect(error?.message).toMatch(/^OAuth2ClientCertificate /);
    expect(provider.endpoint.requests).toBe(0);
    expect(appCertificate()).toContain("BEGIN CERTIFICATE");
  });

  it("Google's unauthorized_client when domain-wide delegation is missing", async () => {
    const { provider, server } = await world("google");
    provider.registered = provider.registered.map((r) =>
      r.kind === "google" ? { ...r, delegatedScopes: [] } : r,
    );
    const error = await send(
      settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-google") }),
    );
    expect(error).toMatchObject({ stage: "token", code: "unauthorized_client", transient: false });
    expect(error?.message).toMatch(/Domain-wide delegation/);
  });

  it("Google's invalid_grant for a user outside the domain", async () => {
    const { provider, server } = await world("google");
    const error = await send(
      settings({
        SMTPPort: server.port,
        ...signInSettings(provider.endpoint, "oauth2-google"),
        SMTPUsername: "stranger@elsewhere.example",
      }),
    );
    expect(error).toMatchObject({ stage: "token", code: "invalid_grant", transient: false });
    expect(error?.message).toMatch(/SMTPUsername is not a user/);
  });

  it("an endpoint that fails answers a transient error; one that answers garbage, a settings error", async () => {
    const { provider, server } = await world();
    const s = settings({ SMTPPort: server.port, ...signInSettings(provider.endpoint, "oauth2-generic") });
    provider.endpoint.failNext(503, "<html>Service Unavailable</html>");
    expect(await send(s)).toMatchObject({ stage: "token", code: "HTTP503", transient: true });
    provider.endpoint.failNext(200, "<html>Sign in</html>");
    const garbage = await send(s);
    expect(garbage).toMatchObject({ stage: "token", code: "EBADANSWER", transient: false });
    expect(garbage?.message).toMatch(/does not answer as a token endpoint/);
    expect(await send(s)).toBeUndefined();
  });
});
