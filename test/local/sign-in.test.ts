/**
 * The local run signs in each way the product can, end to end on this machine: STARTTLS to the
 * embedded SMTP server (certificate checked against the run's own CA), XOAUTH2 with a token from
 * the embedded token endpoint for every OAuth2 method, and Transport ses through the SES stand-in.
 * Driven as a person drives it: a settings file, then POST /email/test and POST /notifications.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalProduct, startLocalProduct } from "../../local/product.ts";
import { appCertificate, SERVICE_ACCOUNT_KEY } from "../helpers/oauth2.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type Json = any;

const running: LocalProduct[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(settings: Record<string, Record<string, unknown>>) {
  const dir = mkdtempSync(join(tmpdir(), "local-sign-in-"));
  const settingsFile = join(dir, "local-settings.json");
  writeFileSync(settingsFile, JSON.stringify(settings));
  const lines: string[] = [];
  const product = await startLocalProduct({ env: {}, settingsFile, log: (l) => lines.push(l) });
  running.push(product);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${product.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  /** Until the embedded server holds `count` messages, at most 10 s. */
  const mail = async (count: number) => {
    for (const deadline = Date.now() + 10_000; product.mailbox.messages.length < count; ) {
      if (Date.now() > deadline) throw new Error(`no mail after 10 s: ${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return product.mailbox.messages;
  };
  return { product, post, mail, lines };
}

const smtp = {
  ConnectionSecurity: "STARTTLS",
  EnableSMTPAuth: true,
  FeedbackEmail: "noreply@chat.example",
};
const microsoft = {
  SMTPAuthMethod: "oauth2-microsoft",
  OAuth2TenantId: "contoso.onmicrosoft.com",
  OAuth2ClientId: "local-app",
};

describe("the local run signs in", () => {
  it.each([
    [
      "oauth2-generic",
      "mailer@chat.example",
      { SMTPAuthMethod: "oauth2-generic", OAuth2ClientId: "local-app", OAuth2ClientSecret: "local-secret-1" },
    ],
    [
      "oauth2-microsoft with a secret",
      "box@chat.example",
      { ...microsoft, OAuth2ClientSecret: "local-secret-2" },
    ],
    [
      "oauth2-microsoft with a certificate",
      "box@chat.example",
      { ...microsoft, OAuth2ClientCertificate: appCertificate() },
    ],
    [
      "oauth2-google",
      "alerts@chat.example",
      { SMTPAuthMethod: "oauth2-google", OAuth2ServiceAccountKey: SERVICE_ACCOUNT_KEY },
    ],
  ])(
    "with %s: the connection test's token stage, then a notification delivered",
    async (_name, user, transport) => {
      const { product, post, mail } = await start({
        EmailSettings: { ...smtp, SMTPUsername: user },
        EmailTransportSettings: transport,
      });
      const test = await post("/email/test", {});
      expect(test.status).toBe(200);
      expect(test.json.error).toBeUndefined();
      expect(test.json.ok).toBe(true);
      expect(test.json.stages.map((s: { stage: string }) => s.stage)).toEqual(
        expect.arrayContaining(["starttls", "token", "auth"]),
      );
      expect(test.json.token.endpoint).toBe(product.tokenEndpoint.tokenUrl());
      expect(test.json.settings.OAuth2TokenEndpoint.source).toEqual({
        layer: "local",
        name: "embedded token endpoint",
      });
      expect(
        await post("/notifications", { to: "you@example.com", subject: "Hi", text: "Signed in" }),
      ).toMatchObject({ status: 202 });
      const [captured] = await mail(1);
      expect(captured).toMatchObject({ to: ["you@example.com"], subject: "Hi" });
      expect(product.tokenEndpoint.issued).toBeGreaterThanOrEqual(1);
    },
  );

  it("with Transport ses: the api stage, then a notification the stand-in delivers", async () => {
    const { post, mail } = await start({
      EmailSettings: { FeedbackEmail: "noreply@chat.example" },
      EmailTransportSettings: { Transport: "ses" },
    });
    const test = await post("/email/test", {});
    expect(test.json).toMatchObject({
      ok: true,
      ses: { identity: "noreply@chat.example", identityVerified: true, sandbox: false },
    });
    await post("/notifications", { to: "you@example.com", subject: "Via SES", text: "Hi" });
    const [captured] = await mail(1);
    expect(captured).toMatchObject({
      from: "noreply@chat.example",
      to: ["you@example.com"],
      subject: "Via SES",
    });
  });

  it("a wrong client secret fails at the token stage, as Microsoft's endpoint answers", async () => {
    const { post } = await start({
      EmailSettings: { ...smtp, SMTPUsername: "box@chat.example" },
      EmailTransportSettings: { ...microsoft, OAuth2ClientSecret: "right" },
    });
    const test = await post("/email/test", { settings: { OAuth2ClientSecret: "wrong" } });
    expect(test.json.error).toMatchObject({ stage: "token", code: "AADSTS7000215" });
  });
});
