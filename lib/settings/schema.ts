/**
 * The EmailSettings schema: the single source of truth for every setting's name, type,
 * default, normalisation and validation. Types are derived from it, never written twice.
 *
 * Each field accepts a value as any layer delivers it: a string (SSM, environment), or a
 * JSON value (a config.json file, a connection-test request), and yields the typed value.
 * Strings are parsed exactly as the reference server (Mattermost) parses them (docs/settings.md
 * says how); where the reference silently ignores a bad value, we reject it.
 */
import * as z from "zod/mini";
import "../zod.ts"; // English messages
import { Broken, broken, textValue } from "./fields.ts";
import {
  authMethodValue,
  certificateValue,
  clientIdValue,
  configurationSetValue,
  messageTagsValue,
  scopeValue,
  secretTextValue,
  serviceAccountKeyValue,
  TRANSPORT_SECTION,
  tenantValue,
  tokenEndpointValue,
  transportValue,
} from "./transport-fields.ts";

/** The reference server's SMTPPort default, also for an empty value. */
export const DEFAULT_SMTP_PORT = 10025;

/** The reference's default FeedbackEmail and ReplyToAddress: an address no operator owns. */
export const REFERENCE_PLACEHOLDER_ADDRESS = "test@example.com";

/** The 32-asterisk mask the reference console shows in place of a saved password. */
export const PASSWORD_MASK = "********************************";

export const CONNECTION_SECURITY = ["", "TLS", "STARTTLS"] as const;
export type ConnectionSecurity = (typeof CONNECTION_SECURITY)[number];

/** Go's strconv.ParseBool, which the reference uses for environment values. */
const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);
/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
const INTEGER = /^[+-]?\d+$/;

/** A field from any layer's raw value: the typed value, or the rule it broke. */
const field = <T>(parse: (value: unknown) => T | Broken) =>
  z.pipe(
    z.unknown(),
    z.transform((value: unknown, ctx): T => {
      const out = parse(value);
      if (out instanceof Broken) {
        ctx.issues.push({ code: "custom", message: out.rule, input: value });
        return z.NEVER;
      }
      return out;
    }),
  );

const boolValue = (value: unknown): boolean | Broken => {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    if (TRUE_WORDS.has(value)) return true;
    if (FALSE_WORDS.has(value)) return false;
  }
  return broken("must be a boolean: one of true/True/TRUE/t/T/1 or false/False/FALSE/f/F/0");
};

/** An integer in base 10, given as a JSON number or a decimal string. `null` when it is not one. */
function toInteger(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value === "string" && INTEGER.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

const portValue = (value: unknown): number | Broken => {
  if (value === "") return DEFAULT_SMTP_PORT; // also for an empty value
  const n = toInteger(value);
  return n === null || n < 1 || n > 65535 ? broken("must be a whole number from 1 to 65535") : n;
};

const timeoutValue = (value: unknown): number | Broken => {
  const n = toInteger(value);
  if (n === 0) return 10; // the reference treats 0 as "use the default"
  // 3600 s is far past any Lambda's 900 s and well inside what a timer can hold.
  return n === null || n < 0 || n > 3600 ? broken("must be a whole number of seconds from 1 to 3600") : n;
};

const securityValue = (value: unknown): ConnectionSecurity | Broken => {
  if (typeof value === "string") {
    const upper = value.toUpperCase();
    // SSM cannot store "", so "none" spells the unencrypted choice; PLAIN is the legacy name.
    if (upper === "" || upper === "NONE" || upper === "PLAIN") return "";
    if (upper === "TLS" || upper === "STARTTLS") return upper;
  }
  return broken('must be one of "" (or "none"), "TLS", "STARTTLS"');
};

const EMAIL = z.email();
const addressValue =
  ({ allowEmpty }: { allowEmpty: boolean }) =>
  (value: unknown): string | Broken => {
    const text = textValue(value);
    if (text instanceof Broken || (text === "" && allowEmpty)) return text;
    return EMAIL.safeParse(text).success
      ? text
      : broken(allowEmpty ? "must be an email address, or empty" : "must be an email address");
  };

/**
 * What a layer may say about each setting. `undefined` means "not set here"; the resolver
 * fills defaults and records where each value came from.
 */
export const EmailSettingsSchema = z.object({
  /** Host of the SMTP server. Reference default `localhost`, also when set to `""`. */
  SMTPServer: z._default(
    field((v) => {
      const text = textValue(v);
      return text === "" ? "localhost" : text;
    }),
    "localhost",
  ),
  /** Port of the SMTP server; stored as text by the reference. Default 10025, also for `""`. */
  SMTPPort: z._default(field(portValue), DEFAULT_SMTP_PORT),
  /** Authenticate with SMTPUsername/SMTPPassword. Default: false when ConnectionSecurity is `""`, else true. */
  EnableSMTPAuth: z.optional(field(boolValue)),
  SMTPUsername: z._default(field(textValue), ""),
  /** Secret. Never logged, echoed in an error or returned unmasked. */
  SMTPPassword: z._default(field(textValue), ""),
  /** `""` (plain), `TLS` (implicit TLS) or `STARTTLS` (mandatory upgrade). Legacy `PLAIN` and `none` mean `""`. */
  ConnectionSecurity: z._default(field(securityValue), ""),
  SkipServerCertificateVerification: z._default(field(boolValue), false),
  /** Mail security bulletins to the admins. The reference keeps it under ServiceSettings. */
  EnableSecurityFixAlert: z._default(field(boolValue), true),
  /** Seconds that bound every SMTP stage. Default 10, also when 0; at most 3600. */
  SMTPServerTimeout: z._default(field(timeoutValue), 10),
  /** Master switch for notification mail. */
  SendEmailNotifications: z._default(field(boolValue), true),
  /** Sender display name. */
  FeedbackName: z._default(field(textValue), ""),
  /** Sender address (MAIL FROM and From). */
  FeedbackEmail: z._default(field(addressValue({ allowEmpty: false })), REFERENCE_PLACEHOLDER_ADDRESS),
  /** Reply-To address, with FeedbackName as its display name; `""` sends no Reply-To. */
  ReplyToAddress: z._default(field(addressValue({ allowEmpty: true })), REFERENCE_PLACEHOLDER_ADDRESS),

  // The product's own, in EmailTransportSettings (transport-fields.ts): unset, mail goes by SMTP
  // with the reference's password, exactly as above.
  /** `smtp` (default): as EmailSettings say; `ses`: Amazon SES's API, signed with the function's role. */
  Transport: z._default(field(transportValue), "smtp"),
  /** `password` (default, the reference's), `oauth2-microsoft`, `oauth2-google` or `oauth2-generic` (XOAUTH2). */
  SMTPAuthMethod: z._default(field(authMethodValue), "password"),
  /** oauth2-microsoft: the directory (tenant) ID or domain. */
  OAuth2TenantId: z._default(field(tenantValue), ""),
  /** oauth2-microsoft, oauth2-generic: the application (client) ID. */
  OAuth2ClientId: z._default(field(clientIdValue), ""),
  /** Secret. oauth2-microsoft (or a certificate), oauth2-generic: the client secret. */
  OAuth2ClientSecret: z._default(field(secretTextValue), ""),
  /** Secret. oauth2-microsoft: PEM, the private key and the certificate registered with the app. */
  OAuth2ClientCertificate: z._default(field(certificateValue), ""),
  /** Secret. oauth2-google: the service account's JSON key file. */
  OAuth2ServiceAccountKey: z._default(field(serviceAccountKeyValue), ""),
  /** The token endpoint; `""`: the provider's (required for oauth2-generic). */
  OAuth2TokenEndpoint: z._default(field(tokenEndpointValue), ""),
  /** Scopes asked for; `""`: the provider's (Microsoft's Exchange Online, Google's Gmail). */
  OAuth2Scope: z._default(field(scopeValue), ""),
  /** ses: the configuration set every message is sent with; `""`: none. */
  SESConfigurationSet: z._default(field(configurationSetValue), ""),
  /** ses: message tags, `name=value,name=value`; `""`: none. */
  SESMessageTags: z._default(field(messageTagsValue), ""),
});

/** The resolved, typed settings. */
export type EmailSettings = Omit<z.output<typeof EmailSettingsSchema>, "EnableSMTPAuth"> & {
  EnableSMTPAuth: boolean;
};
export type SettingName = keyof z.output<typeof EmailSettingsSchema>;
export const SETTING_NAMES = Object.keys(EmailSettingsSchema.shape) as SettingName[];

/**
 * The config.json sections a setting is read from: EmailSettings for all, and ServiceSettings
 * too for EnableSecurityFixAlert, where the reference server keeps it.
 */
export const sectionsOf = (setting: SettingName): readonly string[] =>
  setting === "EnableSecurityFixAlert"
    ? ["EmailSettings", "ServiceSettings"]
    : TRANSPORT_SETTINGS.has(setting)
      ? [TRANSPORT_SECTION]
      : ["EmailSettings"];

/** The section a setting is written to and documented under (its first). */
export const homeSectionOf = (setting: SettingName): string => sectionsOf(setting)[0] as string;

/** The product's own settings (EmailTransportSettings), in the schema's order. */
export const TRANSPORT_SETTING_NAMES: readonly SettingName[] = [
  "Transport",
  "SMTPAuthMethod",
  "OAuth2TenantId",
  "OAuth2ClientId",
  "OAuth2ClientSecret",
  "OAuth2ClientCertificate",
  "OAuth2ServiceAccountKey",
  "OAuth2TokenEndpoint",
  "OAuth2Scope",
  "SESConfigurationSet",
  "SESMessageTags",
];
const TRANSPORT_SETTINGS: ReadonlySet<SettingName> = new Set(TRANSPORT_SETTING_NAMES);
/** The reference's EmailSettings (EnableSecurityFixAlert included), in the schema's order. */
export const REFERENCE_SETTING_NAMES: readonly SettingName[] = SETTING_NAMES.filter(
  (name) => !TRANSPORT_SETTINGS.has(name),
);

/** Stored as SecureStrings, taken from stdin, masked when shown, never logged. */
export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set([
  "SMTPPassword",
  "OAuth2ClientSecret",
  "OAuth2ClientCertificate",
  "OAuth2ServiceAccountKey",
]);
/** Secrets whose value spans lines (PEM, a JSON key file): pasted from a file, not typed. */
export const MULTILINE_SETTINGS: ReadonlySet<SettingName> = new Set([
  "OAuth2ClientCertificate",
  "OAuth2ServiceAccountKey",
]);

/** The reference default for EnableSMTPAuth follows ConnectionSecurity. */
export const defaultEnableSmtpAuth = (security: ConnectionSecurity): boolean => security !== "";

export const isSettingName = (name: string): name is SettingName =>
  Object.hasOwn(EmailSettingsSchema.shape, name);
