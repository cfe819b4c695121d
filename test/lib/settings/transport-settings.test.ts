/**
 * The product's own settings (EmailTransportSettings): where each layer keeps them, the rule
 * each value must keep (named in the error, never a secret's value), and the rules that join
 * settings (a method without its tenant), checked by the one function every sender runs.
 */
import { describe, expect, it } from "vitest";
import {
  type EmailSettings,
  environmentVariableFor,
  InvalidSettingsError,
  parameterNameFor,
  readEnvironmentLayer,
  resolveEmailSettings,
  sendingRequirements,
  TRANSPORT_SETTING_NAMES,
} from "../../../lib/settings/index.ts";
import { appCertificate, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY } from "../../helpers/oauth2.ts";

const fromEnv = (env: Record<string, string>) => resolveEmailSettings([readEnvironmentLayer(env)]);

function rulesBroken(env: Record<string, string>): string {
  try {
    fromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    return (error as Error).message;
  }
  throw new Error("expected the settings to be refused");
}

describe("where the product's own settings live", () => {
  it.each(TRANSPORT_SETTING_NAMES)(
    "%s: <root>/EmailTransportSettings/ and MM_EMAILTRANSPORTSETTINGS_",
    (name) => {
      expect(parameterNameFor("/mattermost", name)).toBe(`/mattermost/EmailTransportSettings/${name}`);
      expect(environmentVariableFor(name)).toBe(`MM_EMAILTRANSPORTSETTINGS_${name.toUpperCase()}`);
    },
  );

  it("an environment variable sets them, matched case-insensitively, with its source", () => {
    const { values, sources } = fromEnv({
      mm_emailtransportsettings_transport: "SES",
      MM_EMAILTRANSPORTSETTINGS_SMTPAUTHMETHOD: "OAuth2-Microsoft",
    });
    expect(values.Transport).toBe("ses");
    expect(values.SMTPAuthMethod).toBe("oauth2-microsoft");
    expect(sources.Transport).toEqual({ layer: "environment", name: "mm_emailtransportsettings_transport" });
  });

  it("the reference's variables never set them", () => {
    expect(fromEnv({ MM_EMAILSETTINGS_TRANSPORT: "ses" }).values.Transport).toBe("smtp");
  });
});

describe("each value's rule, named in the error", () => {
  it.each([
    [{ MM_EMAILTRANSPORTSETTINGS_TRANSPORT: "sendgrid" }, /Transport .* must be one of "smtp", "ses"/],
    [
      { MM_EMAILTRANSPORTSETTINGS_SMTPAUTHMETHOD: "oauth2" },
      /SMTPAuthMethod .* must be one of "password", "oauth2-microsoft", "oauth2-google", "oauth2-generic"/,
    ],
    [
      { MM_EMAILTRANSPORTSETTINGS_OAUTH2TENANTID: "not a tenant" },
      /OAuth2TenantId .* must be the directory \(tenant\) ID/,
    ],
    [
      { MM_EMAILTRANSPORTSETTINGS_OAUTH2TOKENENDPOINT: "http://login.example.com/token" },
      /OAuth2TokenEndpoint .* must be an https URL/,
    ],
    [{ MM_EMAILTRANSPORTSETTINGS_OAUTH2TOKENENDPOINT: "token" }, /OAuth2TokenEndpoint .* must be a URL/],
    [
      { MM_EMAILTRANSPORTSETTINGS_SESCONFIGURATIONSET: "my set" },
      /SESConfigurationSet .* must be an SES configuration set's name/,
    ],
    [{ MM_EMAILTRANSPORTSETTINGS_SESMESSAGETAGS: "app" }, /SESMessageTags .* must be name=value pairs/],
  ])("%j", (env, rule) => {
    expect(rulesBroken(env)).toMatch(rule);
  });

  it("a certificate that is not PEM, or lacks its certificate, is refused without echoing it", () => {
    const keyOnly = appCertificate().split("-----BEGIN CERTIFICATE-----")[0] as string;
    const a = rulesBroken({ MM_EMAILTRANSPORTSETTINGS_OAUTH2CLIENTCERTIFICATE: "not pem" });
    expect(a).toMatch(
      /OAuth2ClientCertificate \(environment variable .*\) must be PEM holding the private key/,
    );
    expect(a).not.toContain("not pem");
    const b = rulesBroken({ MM_EMAILTRANSPORTSETTINGS_OAUTH2CLIENTCERTIFICATE: keyOnly });
    expect(b).toMatch(/must also hold the certificate/);
    expect(b).not.toContain(keyOnly.slice(40, 80));
  });

  it("a certificate written on one line with \\n escapes (an environment variable) is read as PEM", () => {
    const oneLine = appCertificate().replace(/\n/g, "\\n");
    expect(
      fromEnv({ MM_EMAILTRANSPORTSETTINGS_OAUTH2CLIENTCERTIFICATE: oneLine }).values.OAuth2ClientCertificate,
    ).toBe(appCertificate().trim());
  });

  it.each([
    ["not JSON", "{", /it is not JSON/],
    [
      "another kind of key",
      JSON.stringify({ ...SERVICE_ACCOUNT, type: "authorized_user" }),
      /"type" is not "service_account"/,
    ],
    [
      "a key without its private key",
      JSON.stringify({ ...SERVICE_ACCOUNT, private_key: "x" }),
      /"private_key" as PEM/,
    ],
    [
      "a token_uri over http",
      JSON.stringify({ ...SERVICE_ACCOUNT, token_uri: "http://evil.example/token" }),
      /"token_uri" that must be an https URL/,
    ],
  ])("a service account key that is %s is refused, never echoed", (_what, value, rule) => {
    const message = rulesBroken({ MM_EMAILTRANSPORTSETTINGS_OAUTH2SERVICEACCOUNTKEY: value });
    expect(message).toMatch(rule);
    expect(message).not.toContain(SERVICE_ACCOUNT.private_key.split("\n")[2]);
    expect(message).not.toContain("evil.example");
  });

  it("a service account key as Google gives it is kept as given", () => {
    expect(
      fromEnv({ MM_EMAILTRANSPORTSETTINGS_OAUTH2SERVICEACCOUNTKEY: SERVICE_ACCOUNT_KEY }).values
        .OAuth2ServiceAccountKey,
    ).toBe(SERVICE_ACCOUNT_KEY);
  });
});

describe("the rules that join settings (sendingRequirements)", () => {
  const base = (over: Partial<EmailSettings>): EmailSettings =>
    ({
      ...resolveEmailSettings([]).values,
      ConnectionSecurity: "STARTTLS",
      EnableSMTPAuth: true,
      SMTPUsername: "box@example.com",
      ...over,
    }) as EmailSettings;
  const broken = (over: Partial<EmailSettings>) =>
    sendingRequirements(base(over)).map((r) => `${r.code} ${r.setting}: ${r.message}`);

  it("a deployment that sets none of them keeps the reference's rules", () => {
    expect(broken({ SMTPPassword: "pw" })).toEqual([]);
    expect(broken({ SMTPPassword: "" })).toEqual([
      "ENOAUTH SMTPPassword: EnableSMTPAuth is true but SMTPUsername or SMTPPassword is empty: set both",
    ]);
    expect(broken({ SMTPPassword: "pw", ConnectionSecurity: "" })[0]).toMatch(
      /^EINSECUREAUTH ConnectionSecurity/,
    );
  });

  it("oauth2-microsoft needs its tenant, client and one credential, and no password", () => {
    expect(broken({ SMTPAuthMethod: "oauth2-microsoft" })).toEqual([
      "EOAUTH2CONFIG OAuth2TenantId: SMTPAuthMethod oauth2-microsoft needs OAuth2TenantId: the directory (tenant) ID of the app registration",
      "EOAUTH2CONFIG OAuth2ClientId: SMTPAuthMethod oauth2-microsoft needs OAuth2ClientId: the application (client) ID of the app registration",
      "EOAUTH2CONFIG OAuth2ClientSecret: SMTPAuthMethod oauth2-microsoft needs OAuth2ClientSecret: a client secret of the app, or OAuth2ClientCertificate (a certificate and its key)",
    ]);
    const ok = {
      SMTPAuthMethod: "oauth2-microsoft" as const,
      OAuth2TenantId: "contoso.onmicrosoft.com",
      OAuth2ClientId: "id",
    };
    expect(broken({ ...ok, OAuth2ClientSecret: "s" })).toEqual([]);
    expect(broken({ ...ok, OAuth2ClientCertificate: appCertificate() })).toEqual([]);
    expect(broken({ ...ok, OAuth2ClientSecret: "s", OAuth2ClientCertificate: appCertificate() })[0]).toMatch(
      /both set: keep one/,
    );
  });

  it("OAuth2 needs the mailbox, auth on, and encryption", () => {
    const google = { SMTPAuthMethod: "oauth2-google" as const, OAuth2ServiceAccountKey: SERVICE_ACCOUNT_KEY };
    expect(broken(google)).toEqual([]);
    expect(broken({ ...google, SMTPUsername: "" })[0]).toMatch(
      /^ENOAUTH SMTPUsername: .*the mailbox to send as/,
    );
    expect(broken({ ...google, EnableSMTPAuth: false })[0]).toMatch(
      /^ENOAUTH EnableSMTPAuth: SMTPAuthMethod is oauth2-google but EnableSMTPAuth is false/,
    );
    expect(broken({ ...google, ConnectionSecurity: "" })[0]).toMatch(/^EINSECUREAUTH/);
    expect(broken({ SMTPAuthMethod: "oauth2-google" })[0]).toMatch(/needs OAuth2ServiceAccountKey/);
  });

  it("oauth2-generic needs the endpoint, the client and its secret", () => {
    expect(broken({ SMTPAuthMethod: "oauth2-generic" }).map((m) => m.split(":")[0])).toEqual([
      "EOAUTH2CONFIG OAuth2TokenEndpoint",
      "EOAUTH2CONFIG OAuth2ClientId",
      "EOAUTH2CONFIG OAuth2ClientSecret",
    ]);
  });

  it("Transport ses needs no SMTP setting at all", () => {
    expect(broken({ Transport: "ses", SMTPAuthMethod: "oauth2-microsoft", ConnectionSecurity: "" })).toEqual(
      [],
    );
  });
});
