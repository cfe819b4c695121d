/**
 * Where a saved credential travels: the SMTP password to the SMTP server (the reference's rule:
 * its server, port and username), an OAuth2 secret to its token endpoint and the token it buys to
 * the SMTP server. Whoever changes one of those settings while the credential stays (the
 * connection test, mm-email settings set) must not send it somewhere it was not saved for without
 * asking.
 */
import type { EmailSettings, SettingName } from "./schema.ts";

/** Where the SMTP password goes: the reference's rule. */
export const PASSWORD_DESTINATION = ["SMTPServer", "SMTPPort", "SMTPUsername"] as const;
/** Where an OAuth2 secret goes (the token endpoint), and where its token goes (the SMTP server). */
export const TOKEN_DESTINATION = [
  ...PASSWORD_DESTINATION,
  "SMTPAuthMethod",
  "OAuth2TokenEndpoint",
  "OAuth2TenantId",
] as const;

/** The saved credential these settings would use, and the settings that say where it travels. */
export function credentialInUse(
  s: EmailSettings,
): { secret: SettingName; destination: readonly SettingName[] } | undefined {
  if (s.Transport !== "smtp" || !s.EnableSMTPAuth) return undefined;
  switch (s.SMTPAuthMethod) {
    case "password":
      return { secret: "SMTPPassword", destination: PASSWORD_DESTINATION } as const;
    case "oauth2-google":
      return { secret: "OAuth2ServiceAccountKey", destination: TOKEN_DESTINATION } as const;
    case "oauth2-microsoft":
      return s.OAuth2ClientCertificate
        ? ({ secret: "OAuth2ClientCertificate", destination: TOKEN_DESTINATION } as const)
        : ({ secret: "OAuth2ClientSecret", destination: TOKEN_DESTINATION } as const);
    default:
      return { secret: "OAuth2ClientSecret", destination: TOKEN_DESTINATION } as const;
  }
}
