/**
 * What works but will hurt: the settings a relay accepts today and that fail, leak or mislead
 * later. The connection test reports these beside its stages, and `mm-email settings validate`
 * reports the very same list without connecting, so the two never disagree.
 */
import { type EmailSettings, REFERENCE_PLACEHOLDER_ADDRESS } from "../settings/index.ts";
import { isFullyQualified } from "./ehlo.ts";

const MICROSOFT_HOSTS = /(^|\.)(office365\.com|outlook\.com)$/i;
const GOOGLE_HOSTS = /(^|\.)(gmail\.com|googlemail\.com)$/i;

/**
 * The reference's placeholder addresses, a password a provider is retiring and, when mail goes
 * by SMTP, no certificate checks and an EHLO name strict relays refuse. `ehloName` is the name
 * the functions give (lib/smtp/ehlo.ts: ehloNameFor).
 */
export function settingsWarnings(settings: EmailSettings, ehloName: string): string[] {
  const warnings: string[] = [];
  const smtp = settings.Transport === "smtp";
  const password = smtp && settings.EnableSMTPAuth && settings.SMTPAuthMethod === "password";
  if (password && MICROSOFT_HOSTS.test(settings.SMTPServer)) {
    warnings.push(
      "SMTPServer is Microsoft 365's and SMTPAuthMethod is password: Microsoft turns SMTP basic auth off by default at the end of December 2026 (535 5.7.139); sign in with SMTPAuthMethod oauth2-microsoft (docs/microsoft-365.md)",
    );
  }
  if (password && GOOGLE_HOSTS.test(settings.SMTPServer)) {
    warnings.push(
      "SMTPServer is Google's and SMTPAuthMethod is password: Google accepts only app passwords there (534 5.7.9); sign in with SMTPAuthMethod oauth2-google for a Workspace domain (docs/google-workspace.md)",
    );
  }
  if (settings.FeedbackEmail === REFERENCE_PLACEHOLDER_ADDRESS) {
    warnings.push(
      `FeedbackEmail is the reference default ${REFERENCE_PLACEHOLDER_ADDRESS}: most relays refuse a sender they do not host; set it to an address of your domain`,
    );
  }
  if (settings.ReplyToAddress === REFERENCE_PLACEHOLDER_ADDRESS) {
    warnings.push(
      `ReplyToAddress is the reference default ${REFERENCE_PLACEHOLDER_ADDRESS}: replies would go to a stranger; set it to your address, or to "" for no Reply-To`,
    );
  }
  if (smtp && settings.SkipServerCertificateVerification) {
    warnings.push(
      "SkipServerCertificateVerification is true: the server's certificate is not checked, so anyone on the network path can pose as it and read the password; install a certificate a CA signed, and set it to false",
    );
  }
  if (smtp && !isFullyQualified(ehloName)) {
    warnings.push(
      `the EHLO name ${JSON.stringify(ehloName)} is not a fully qualified domain name: relays with reject_non_fqdn_helo_hostname refuse every message (504 5.5.2); set MM_SERVICESETTINGS_SITEURL, or a FeedbackEmail of your domain`,
    );
  }
  return warnings;
}
