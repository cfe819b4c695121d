/**
 * The rules that join settings: each value may be valid alone (schema.ts) and the whole still
 * unable to send, such as auth without encryption, or an OAuth2 method without its tenant. One
 * list, checked before any byte is sent (the session's `config` stage, the SES transport) and by
 * whoever validates settings ahead of that, so the two never disagree.
 */
import type { EmailSettings, SettingName } from "./schema.ts";
import { isOAuth2Method } from "./transport-fields.ts";

/** One rule the settings break together: the setting to change, and a stable code. */
export interface SettingRequirement {
  /** The setting the message asks the operator to change. */
  setting: SettingName;
  /** Stable: EINSECUREAUTH (credentials over plain text), ENOAUTH (a credential missing), EOAUTH2CONFIG. */
  code: "EINSECUREAUTH" | "ENOAUTH" | "EOAUTH2CONFIG";
  /** One line an operator can act on. */
  message: string;
}

/** Every rule the settings break together, in the order an operator would fix them; empty when none. */
export function sendingRequirements(s: EmailSettings): SettingRequirement[] {
  if (s.Transport === "ses") return []; // the API needs no SMTP setting: the function's role signs it
  const out: SettingRequirement[] = [];
  const need = (setting: SettingName, code: SettingRequirement["code"], message: string) =>
    out.push({ setting, code, message });
  const method = s.SMTPAuthMethod;

  if (isOAuth2Method(method) && !s.EnableSMTPAuth) {
    need(
      "EnableSMTPAuth",
      "ENOAUTH",
      `SMTPAuthMethod is ${method} but EnableSMTPAuth is false: set EnableSMTPAuth to true to sign in with OAuth2`,
    );
  }
  if (!s.EnableSMTPAuth) return out;
  if (s.ConnectionSecurity === "") {
    need(
      "ConnectionSecurity",
      "EINSECUREAUTH",
      'EnableSMTPAuth is true but ConnectionSecurity is "": credentials are never sent over an unencrypted connection; set ConnectionSecurity to TLS or STARTTLS',
    );
  }
  if (method === "password") {
    if (s.SMTPUsername === "" || s.SMTPPassword === "") {
      need(
        "SMTPPassword",
        "ENOAUTH",
        "EnableSMTPAuth is true but SMTPUsername or SMTPPassword is empty: set both",
      );
    }
    return out;
  }

  if (s.SMTPUsername === "") {
    need(
      "SMTPUsername",
      "ENOAUTH",
      `SMTPAuthMethod ${method} signs in as SMTPUsername, which is empty: set it to the mailbox to send as`,
    );
  }
  const missing = (setting: SettingName, what: string) =>
    need(setting, "EOAUTH2CONFIG", `SMTPAuthMethod ${method} needs ${setting}: ${what}`);
  if (method === "oauth2-microsoft") {
    if (s.OAuth2TenantId === "")
      missing("OAuth2TenantId", "the directory (tenant) ID of the app registration");
    if (s.OAuth2ClientId === "")
      missing("OAuth2ClientId", "the application (client) ID of the app registration");
    if (s.OAuth2ClientSecret === "" && s.OAuth2ClientCertificate === "")
      missing(
        "OAuth2ClientSecret",
        "a client secret of the app, or OAuth2ClientCertificate (a certificate and its key)",
      );
    if (s.OAuth2ClientSecret !== "" && s.OAuth2ClientCertificate !== "")
      need(
        "OAuth2ClientSecret",
        "EOAUTH2CONFIG",
        "OAuth2ClientSecret and OAuth2ClientCertificate are both set: keep one (unset the other), so it is clear which one signs in",
      );
  } else if (method === "oauth2-google") {
    if (s.OAuth2ServiceAccountKey === "")
      missing("OAuth2ServiceAccountKey", "the JSON key of a service account with domain-wide delegation");
  } else {
    if (s.OAuth2TokenEndpoint === "") missing("OAuth2TokenEndpoint", "the token endpoint's URL");
    if (s.OAuth2ClientId === "") missing("OAuth2ClientId", "the client ID the token endpoint knows");
    if (s.OAuth2ClientSecret === "") missing("OAuth2ClientSecret", "the client's secret");
  }
  return out;
}
