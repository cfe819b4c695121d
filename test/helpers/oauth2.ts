/**
 * A provider's whole sign-in on 127.0.0.1: the token endpoint (local/token-endpoint.ts, real JWTs
 * from oauth2-mock-server) with a Microsoft app, a Google service account and a plain client
 * registered, and the settings that sign in as each. The credentials are made here, once a run:
 * the app's certificate (openssl), the service account's key (node:crypto).
 */
import { generateKeyPairSync } from "node:crypto";
import type { EmailSettings } from "../../lib/settings/index.ts";
import { type Registration, startTokenEndpoint, type TokenEndpoint } from "../../local/token-endpoint.ts";
import { testCertificates } from "./certs.ts";

export const TENANT = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
export const CLIENT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const CLIENT_SECRET = "Xq8~kT3.secret-value-4Yp7zR2mN9vB";
export const EXPIRED_SECRET = "Old8~expired-secret-value-1234567";
export const MAILBOX = "notifications@contoso.example";
export const GOOGLE_USER = "alerts@workspace.example";
export const GENERIC_CLIENT = "mm-email";
export const GENERIC_SECRET = "generic-client-secret-9f3e2d1c";

const serviceAccountKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const SERVICE_ACCOUNT = {
  type: "service_account",
  project_id: "mm-email-test",
  private_key_id: "4f6e2d9c1b0a",
  private_key: serviceAccountKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  client_email: "mm-email@mm-email-test.iam.gserviceaccount.com",
  client_id: "109876543210987654321",
};
export const SERVICE_ACCOUNT_KEY = JSON.stringify(SERVICE_ACCOUNT, null, 2);

/** The app's PEM for OAuth2ClientCertificate: its key, then its certificate. */
export const appCertificate = () => `${testCertificates().app.key}\n${testCertificates().app.cert}`;

/** What is registered at the provider: each test may change it before asking. */
export function registrations(): Registration[] {
  return [
    {
      kind: "microsoft",
      tenants: [TENANT, "contoso.onmicrosoft.com"],
      clientId: CLIENT_ID,
      secrets: [{ value: CLIENT_SECRET }, { value: EXPIRED_SECRET, expired: true }],
      certificates: [testCertificates().app.cert],
      mailboxes: [MAILBOX],
    },
    {
      kind: "google",
      clientEmail: SERVICE_ACCOUNT.client_email,
      key: SERVICE_ACCOUNT.private_key,
      delegatedScopes: ["https://mail.google.com/"],
      users: [GOOGLE_USER],
    },
    { kind: "generic", clientId: GENERIC_CLIENT, secret: GENERIC_SECRET },
  ];
}

export interface Provider {
  endpoint: TokenEndpoint;
  /** What is registered now; tests edit it. */
  registered: Registration[];
}

export async function startProvider(options: { lifetimeSeconds?: number } = {}): Promise<Provider> {
  const provider = { registered: registrations() } as Provider;
  provider.endpoint = await startTokenEndpoint({
    registrations: () => provider.registered,
    ...(options.lifetimeSeconds ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
  });
  return provider;
}

/** The settings that sign in with each method at this endpoint (STARTTLS, auth on). */
export function signInSettings(
  endpoint: TokenEndpoint,
  method: "oauth2-microsoft" | "oauth2-microsoft-certificate" | "oauth2-google" | "oauth2-generic",
): Partial<EmailSettings> {
  const smtp = { ConnectionSecurity: "STARTTLS" as const, EnableSMTPAuth: true };
  switch (method) {
    case "oauth2-microsoft":
      return {
        ...smtp,
        SMTPAuthMethod: "oauth2-microsoft",
        SMTPUsername: MAILBOX,
        OAuth2TenantId: TENANT,
        OAuth2ClientId: CLIENT_ID,
        OAuth2ClientSecret: CLIENT_SECRET,
        OAuth2TokenEndpoint: endpoint.tokenUrl(TENANT),
      };
    case "oauth2-microsoft-certificate":
      return {
        ...smtp,
        SMTPAuthMethod: "oauth2-microsoft",
        SMTPUsername: MAILBOX,
        OAuth2TenantId: TENANT,
        OAuth2ClientId: CLIENT_ID,
        OAuth2ClientCertificate: appCertificate(),
        OAuth2TokenEndpoint: endpoint.tokenUrl(TENANT),
      };
    case "oauth2-google":
      return {
        ...smtp,
        SMTPAuthMethod: "oauth2-google",
        SMTPUsername: GOOGLE_USER,
        OAuth2ServiceAccountKey: SERVICE_ACCOUNT_KEY,
        OAuth2TokenEndpoint: endpoint.tokenUrl(),
      };
    case "oauth2-generic":
      return {
        ...smtp,
        SMTPAuthMethod: "oauth2-generic",
        SMTPUsername: "mailer@example.com",
        OAuth2ClientId: GENERIC_CLIENT,
        OAuth2ClientSecret: GENERIC_SECRET,
        OAuth2TokenEndpoint: endpoint.tokenUrl(),
      };
  }
}

/** Every secret these sign-ins hold, in the forms they travel in: none may appear in any output. */
export const OAUTH2_SECRETS = [
  CLIENT_SECRET,
  EXPIRED_SECRET,
  GENERIC_SECRET,
  Buffer.from(`${GENERIC_CLIENT}:${GENERIC_SECRET}`).toString("base64"),
  // A line of each private key's body is enough to recognise a leak.
  SERVICE_ACCOUNT.private_key.split("\n")[2] as string,
  JSON.stringify(SERVICE_ACCOUNT.private_key).slice(1, 60),
];
