/**
 * The EmailSettings schema: the single source of truth for every setting's name, type,
 * default, normalisation and validation. Types are derived from it, never written twice.
 *
 * Each field accepts a value as any layer delivers it: a string (SSM, environment), or a
 * JSON value (a config.json file, a connection-test request), and yields the typed value.
 * Strings are parsed exactly as the reference server parses them (see
 * shared/reference/email-settings-behaviour.md); where the reference silently ignores a bad
 * value, we reject it.
 */
import { z } from "zod";

/** The 32-asterisk mask the reference console shows in place of a saved password. */
export const PASSWORD_MASK = "********************************";

export const CONNECTION_SECURITY = ["", "TLS", "STARTTLS"] as const;
export type ConnectionSecurity = (typeof CONNECTION_SECURITY)[number];

/** Go's strconv.ParseBool, which the reference uses for environment values. */
const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);
/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
const INTEGER = /^[+-]?\d+$/;
const LINE_BREAK = /[\r\n]/;

const text = (rule = "must be a string") =>
  z.unknown().transform((value, ctx): string => {
    if (typeof value !== "string") {
      ctx.addIssue({ code: "custom", message: rule });
      return z.NEVER;
    }
    if (LINE_BREAK.test(value)) {
      ctx.addIssue({ code: "custom", message: "must not contain line breaks (CR or LF)" });
      return z.NEVER;
    }
    return value;
  });

const bool = () =>
  z.unknown().transform((value, ctx): boolean => {
    if (typeof value === "boolean") return value;
    if (typeof value === "string") {
      if (TRUE_WORDS.has(value)) return true;
      if (FALSE_WORDS.has(value)) return false;
    }
    ctx.addIssue({
      code: "custom",
      message: "must be a boolean: one of true/True/TRUE/t/T/1 or false/False/FALSE/f/F/0",
    });
    return z.NEVER;
  });

/** An integer in base 10, given as a JSON number or a decimal string. `null` when it is not one. */
function toInteger(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value === "string" && INTEGER.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

const port = () =>
  z.unknown().transform((value, ctx): number => {
    if (value === "") return 10025; // the reference's default, also for an empty value
    const n = toInteger(value);
    if (n === null || n < 1 || n > 65535) {
      ctx.addIssue({ code: "custom", message: "must be a whole number from 1 to 65535" });
      return z.NEVER;
    }
    return n;
  });

const timeoutSeconds = () =>
  z.unknown().transform((value, ctx): number => {
    const n = toInteger(value);
    if (n === 0) return 10; // the reference treats 0 as "use the default"
    // 3600 s is far past any Lambda's 900 s and well inside what a timer can hold.
    if (n === null || n < 0 || n > 3600) {
      ctx.addIssue({ code: "custom", message: "must be a whole number of seconds from 1 to 3600" });
      return z.NEVER;
    }
    return n;
  });

const connectionSecurity = () =>
  z.unknown().transform((value, ctx): ConnectionSecurity => {
    if (typeof value === "string") {
      const upper = value.toUpperCase();
      // SSM cannot store "", so "none" spells the unencrypted choice; PLAIN is the legacy name.
      if (upper === "" || upper === "NONE" || upper === "PLAIN") return "";
      if (upper === "TLS" || upper === "STARTTLS") return upper;
    }
    ctx.addIssue({ code: "custom", message: 'must be one of "" (or "none"), "TLS", "STARTTLS"' });
    return z.NEVER;
  });

const EMAIL = z.email();
const address = ({ allowEmpty }: { allowEmpty: boolean }) =>
  text().transform((value, ctx): string => {
    if (value === "" && allowEmpty) return value;
    if (!EMAIL.safeParse(value).success) {
      ctx.addIssue({
        code: "custom",
        message: allowEmpty ? "must be an email address, or empty" : "must be an email address",
      });
      return z.NEVER;
    }
    return value;
  });

/**
 * What a layer may say about each setting. `undefined` means "not set here"; the resolver
 * fills defaults and records where each value came from.
 */
export const EmailSettingsSchema = z.object({
  /** Host of the SMTP server. Reference default `localhost`, also when set to `""`. */
  SMTPServer: text()
    .transform((v) => (v === "" ? "localhost" : v))
    .default("localhost"),
  /** Port of the SMTP server; stored as text by the reference. Default 10025, also for `""`. */
  SMTPPort: port().default(10025),
  /** Authenticate with SMTPUsername/SMTPPassword. Default: false when ConnectionSecurity is `""`, else true. */
  EnableSMTPAuth: bool().optional(),
  SMTPUsername: text().default(""),
  /** Secret. Never logged, echoed in an error or returned unmasked. */
  SMTPPassword: text().default(""),
  /** `""` (plain), `TLS` (implicit TLS) or `STARTTLS` (mandatory upgrade). Legacy `PLAIN` and `none` mean `""`. */
  ConnectionSecurity: connectionSecurity().default(""),
  SkipServerCertificateVerification: bool().default(false),
  /** Mail security bulletins to the admins. The reference keeps it under ServiceSettings. */
  EnableSecurityFixAlert: bool().default(true),
  /** Seconds that bound every SMTP stage. Default 10, also when 0. */
  SMTPServerTimeout: timeoutSeconds().default(10),
  /** Master switch for notification mail. */
  SendEmailNotifications: bool().default(true),
  /** Sender display name. */
  FeedbackName: text().default(""),
  /** Sender address (MAIL FROM and From). */
  FeedbackEmail: address({ allowEmpty: false }).default("test@example.com"),
  /** Reply-To address, with FeedbackName as its display name; `""` sends no Reply-To. */
  ReplyToAddress: address({ allowEmpty: true }).default("test@example.com"),
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
  setting === "EnableSecurityFixAlert" ? ["EmailSettings", "ServiceSettings"] : ["EmailSettings"];

export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set(["SMTPPassword"]);

/** The reference default for EnableSMTPAuth follows ConnectionSecurity. */
export const defaultEnableSmtpAuth = (security: ConnectionSecurity): boolean => security !== "";

export const isSettingName = (name: string): name is SettingName =>
  Object.hasOwn(EmailSettingsSchema.shape, name);
