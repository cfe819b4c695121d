/**
 * The settings this product adds beside the reference's EmailSettings: how mail leaves (SMTP, or
 * the Amazon SES API with the function's own role) and how SMTP signs in (the reference's
 * password, or an OAuth2 access token from Microsoft's, Google's or any token endpoint). They
 * live in a section of their own, `EmailTransportSettings`, in the same three layers (SSM
 * `<root>/EmailTransportSettings/<Name>`, `MM_EMAILTRANSPORTSETTINGS_<NAME>`, the default), so
 * a deployment that sets none of them behaves exactly as the reference describes.
 *
 * Each parser takes a layer's raw value and gives the typed value or the rule it broke
 * (schema.ts composes them). Rules that join two settings (a method without its tenant) are in
 * requirements.ts: a layer cannot know them alone.
 */
import { Broken, broken, textValue } from "./fields.ts";

/** The section the product's own settings live in: `<root>/EmailTransportSettings/…`. */
export const TRANSPORT_SECTION = "EmailTransportSettings";

/** How mail leaves: SMTP as EmailSettings say, or Amazon SES's API signed with the function's role. */
export const TRANSPORTS = ["smtp", "ses"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * How SMTP signs in when EnableSMTPAuth is true: the reference's SMTPUsername/SMTPPassword
 * (AUTH PLAIN or LOGIN), or SASL XOAUTH2 with an access token for SMTPUsername from Microsoft's
 * identity platform (client credentials), Google (a service account with domain-wide
 * delegation) or any OAuth2 token endpoint (client credentials).
 */
export const SMTP_AUTH_METHODS = ["password", "oauth2-microsoft", "oauth2-google", "oauth2-generic"] as const;
export type SmtpAuthMethod = (typeof SMTP_AUTH_METHODS)[number];
export type OAuth2Method = Exclude<SmtpAuthMethod, "password">;
export const isOAuth2Method = (method: SmtpAuthMethod): method is OAuth2Method => method !== "password";

const oneOf =
  <T extends string>(choices: readonly T[], fallback: T) =>
  (value: unknown): T | Broken => {
    if (typeof value === "string") {
      const lower = value.trim().toLowerCase();
      if (lower === "") return fallback;
      const found = choices.find((c) => c === lower);
      if (found) return found;
    }
    return broken(`must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
  };

export const transportValue = oneOf(TRANSPORTS, "smtp");
export const authMethodValue = oneOf(SMTP_AUTH_METHODS, "password");

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Microsoft's directory: its ID (a GUID) or one of its domains; `""` when unused. */
export const tenantValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  if (text instanceof Broken) return text;
  const t = text.trim();
  return t === "" || GUID.test(t) || DOMAIN.test(t)
    ? t
    : broken(
        "must be the directory (tenant) ID, a GUID such as 00000000-0000-0000-0000-000000000000, or a domain of the tenant such as contoso.onmicrosoft.com",
      );
};

/** An OAuth2 client's ID: one word of printable characters. */
export const clientIdValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  if (text instanceof Broken) return text;
  const t = text.trim();
  return t === "" || /^[\x21-\x7e]{1,255}$/.test(t)
    ? t
    : broken("must be the application (client) ID: printable characters, no spaces, at most 255");
};

/** A secret of one line (the client secret): kept exactly as given. */
export const secretTextValue = textValue;

/**
 * PEM as operators store it: real line breaks, or `\n` escapes (an environment variable or a
 * JSON string holding the file on one line).
 */
const pemText = (value: string) =>
  value.includes("-----") ? value.replace(/\\n/g, "\n").trim() : value.trim();
const PEM_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/;
/** A PEM certificate block; `g` finds each of several (match, matchAll). */
export const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_CERT = new RegExp(PEM_CERTIFICATE.source);

/** The certificate Microsoft holds for the app, with its private key: both PEM blocks in one value. */
export const certificateValue = (value: unknown): string | Broken => {
  if (typeof value !== "string") return broken("must be a string");
  const pem = pemText(value);
  if (pem === "") return "";
  if (!PEM_KEY.test(pem))
    return broken(
      "must be PEM holding the private key (-----BEGIN PRIVATE KEY-----, unencrypted) and the certificate (-----BEGIN CERTIFICATE-----) uploaded to the app registration",
    );
  if (!PEM_CERT.test(pem))
    return broken(
      "must also hold the certificate (-----BEGIN CERTIFICATE-----) uploaded to the app registration, after the private key: Microsoft identifies the key by the certificate's thumbprint",
    );
  return pem;
};

/** The fields of a Google service account's JSON key this product uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** A Google service account's JSON key file, as downloaded: checked, kept as text. */
export const serviceAccountKeyValue = (value: unknown): string | Broken => {
  if (typeof value !== "string") return broken("must be a string");
  if (value.trim() === "") return "";
  const parsed = parseServiceAccountKey(value);
  return parsed instanceof Broken ? parsed : value.trim();
};

export function parseServiceAccountKey(text: string): ServiceAccountKey | Broken {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return broken("must be the service account's JSON key file, as Google gives it (it is not JSON)");
  }
  const key = json as Record<string, unknown> | null;
  if (typeof key !== "object" || key === null || Array.isArray(key))
    return broken("must be the service account's JSON key file, an object");
  if (key.type !== "service_account")
    return broken('must be a service account key: its "type" is not "service_account"');
  if (typeof key.client_email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(key.client_email))
    return broken('must hold the service account\'s "client_email"');
  if (typeof key.private_key !== "string" || !PEM_KEY.test(key.private_key))
    return broken('must hold "private_key" as PEM (-----BEGIN PRIVATE KEY-----)');
  if (key.token_uri !== undefined) {
    const rule = typeof key.token_uri === "string" ? urlRule(key.token_uri) : "must be a URL";
    if (rule) return broken(`holds a "token_uri" that ${rule}`);
  }
  return {
    client_email: key.client_email,
    private_key: key.private_key,
    ...(typeof key.private_key_id === "string" ? { private_key_id: key.private_key_id } : {}),
    ...(typeof key.token_uri === "string" ? { token_uri: key.token_uri } : {}),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Secrets travel to it: https, or http to this machine only (the local run, tests). */
export function urlRule(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a URL such as https://login.example.com/oauth2/token";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return undefined;
  return "must be an https URL (http only to 127.0.0.1 or localhost): the client's secret is sent to it";
}

/** A token endpoint over the provider's own; `""` for the provider's. */
export const tokenEndpointValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  if (text instanceof Broken) return text;
  const t = text.trim();
  if (t === "") return "";
  const rule = urlRule(t);
  return rule ? broken(rule) : t;
};

/** Space-separated scopes, one line; `""` for the provider's. */
export const scopeValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  return text instanceof Broken ? text : text.trim();
};

/** SES's rule for a configuration set's name. */
export const configurationSetValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  if (text instanceof Broken) return text;
  const t = text.trim();
  return t === "" || /^[A-Za-z0-9_-]{1,64}$/.test(t)
    ? t
    : broken("must be an SES configuration set's name: letters, digits, _ and -, at most 64");
};

/** SES's rule for a message tag's name and value. */
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
export const MAX_MESSAGE_TAGS = 50;

/** `name=value,name=value` as SES EmailTags. */
export function parseMessageTags(text: string): Array<{ Name: string; Value: string }> | Broken {
  if (text.trim() === "") return [];
  const tags = text.split(",").map((pair) => pair.trim().split("="));
  if (tags.length > MAX_MESSAGE_TAGS) return broken(`must be at most ${MAX_MESSAGE_TAGS} tags`);
  const out = [];
  for (const tag of tags) {
    const [name, value, ...rest] = tag;
    if (
      rest.length > 0 ||
      name === undefined ||
      value === undefined ||
      !TAG_PART.test(name) ||
      !TAG_PART.test(value)
    )
      return broken(
        "must be name=value pairs separated by commas, such as app=mattermost,kind=notification: names and values of letters, digits, _ and -",
      );
    out.push({ Name: name, Value: value });
  }
  return out;
}

export const messageTagsValue = (value: unknown): string | Broken => {
  const text = textValue(value);
  if (text instanceof Broken) return text;
  const tags = parseMessageTags(text);
  return tags instanceof Broken ? tags : text.trim();
};
