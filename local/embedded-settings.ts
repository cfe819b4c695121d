/**
 * What the local run's embedded servers add to the settings: a layer under the settings file that
 * points the functions at the embedded SMTP server (and at the embedded token endpoint, unless the
 * file names another SMTP server) and the security alerts at local recipients (unless the file
 * names its own), and the OAuth2 client the token endpoint registers, read from the settings.
 */
import {
  type EmailSettings,
  layeredStore,
  PEM_CERTIFICATE,
  parseServiceAccountKey,
  RECIPIENTS_PARAMETER,
  type SettingsStore,
  type StoredSettings,
} from "../lib/settings/index.ts";
import { LOCAL_ALERT_DEFAULTS } from "./security-feed.ts";
import type { Registration } from "./token-endpoint.ts";

/**
 * The settings layer that points the functions at the embedded SMTP server and, unless the
 * settings file names another SMTP server, at the embedded token endpoint.
 */
function embeddedLayer(port: number, tokenUrl: string | undefined): StoredSettings {
  const local = { layer: "local" as const, name: "embedded SMTP server" };
  return {
    layer: [
      { setting: "SMTPServer", value: "127.0.0.1", source: local },
      { setting: "SMTPPort", value: port, source: local },
      ...(tokenUrl
        ? [
            {
              setting: "OAuth2TokenEndpoint" as const,
              value: tokenUrl,
              source: { layer: "local" as const, name: "embedded token endpoint" },
            },
          ]
        : []),
    ],
    warnings: [],
    // The alert check's recipients when the settings file names none (the mailbox captures them).
    others: { [RECIPIENTS_PARAMETER]: LOCAL_ALERT_DEFAULTS.SECURITY_ALERT_RECIPIENTS },
  };
}

/** The stored settings under the embedded servers' layer. */
export function localStore(stored: SettingsStore, port: number, tokenUrl: string): SettingsStore {
  return {
    description: `embedded SMTP server 127.0.0.1:${port} + ${stored.description}`,
    async read() {
      const s = await stored.read();
      const elsewhere = s.layer.some((r) => r.setting === "SMTPServer");
      const embedded = embeddedLayer(port, elsewhere ? undefined : tokenUrl);
      return layeredStore([
        { description: "", read: async () => embedded },
        { description: "", read: async () => s },
      ]).read();
    },
  };
}

/**
 * The local settings' own OAuth2 client, as the embedded token endpoint registers it: whatever
 * client the settings sign in as is known to it (a wrong secret there is the settings file's, and
 * the SMTP side still checks every token as a provider does).
 */
export function registrationsOf(v: EmailSettings): Registration[] {
  const out: Registration[] = [];
  if (v.OAuth2ClientId) {
    const certificates = v.OAuth2ClientCertificate.match(PEM_CERTIFICATE) ?? [];
    out.push({
      kind: "microsoft",
      tenants: [v.OAuth2TenantId || "local"],
      clientId: v.OAuth2ClientId,
      secrets: v.OAuth2ClientSecret ? [{ value: v.OAuth2ClientSecret }] : [],
      certificates,
    });
    if (v.OAuth2ClientSecret)
      out.push({ kind: "generic", clientId: v.OAuth2ClientId, secret: v.OAuth2ClientSecret });
  }
  const key = v.OAuth2ServiceAccountKey ? parseServiceAccountKey(v.OAuth2ServiceAccountKey) : undefined;
  if (key && "client_email" in key) {
    out.push({
      kind: "google",
      clientEmail: key.client_email,
      key: key.private_key,
      delegatedScopes: [v.OAuth2Scope || "https://mail.google.com/"],
    });
  }
  return out;
}
