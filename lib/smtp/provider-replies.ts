/**
 * The replies the big providers give when their own rules refuse a sender, and what each means
 * for an operator: Microsoft 365's basic-auth shutdown and Send As refusal, Google's app-password
 * demand and daily quotas, and the like. Known by their enhanced status codes and words (these
 * providers word them the same everywhere); a reply not listed here gets the stage's own message.
 *
 * - `hint`: what to change, appended to the stage's message.
 * - `quota`: a daily quota is spent: retrying within minutes only adds refusals; wait for it to reset.
 */
import type { EmailSettings } from "../settings/index.ts";

export interface ProviderReading {
  hint: string;
  quota?: true;
  /** A rate or connection limit, though its code alone would not say so. */
  throttle?: true;
}

const OAUTH2_GUIDE = "docs/microsoft-365.md";

export function readProviderReply(
  response: string | undefined,
  s: EmailSettings,
): ProviderReading | undefined {
  const text = response ?? "";
  if (
    /\b5\.7\.139\b/.test(text) ||
    /\b5\.7\.30\b/.test(text) ||
    /basic authentication is not supported/i.test(text)
  ) {
    return {
      hint: `Microsoft 365 does not accept a password here (SMTP basic auth is off for the tenant or the mailbox): sign in with OAuth2 instead, SMTPAuthMethod oauth2-microsoft (${OAUTH2_GUIDE})`,
    };
  }
  if (/\b5\.7\.60\b/.test(text) || /SendAsDenied/i.test(text)) {
    return {
      hint: `the mailbox ${s.SMTPUsername || "signed in"} may not send as FeedbackEmail ${s.FeedbackEmail}: set FeedbackEmail to that mailbox's address, or give it Send As on the sender (Add-RecipientPermission)`,
    };
  }
  if (/STOREDRV\.ClientSubmit/i.test(text) || /\b4\.3\.2\b.*thread limit/i.test(text)) {
    return {
      throttle: true,
      hint: "Microsoft 365 allows 3 connections at once per mailbox: the provider preset microsoft-365 keeps the fleet under it",
    };
  }
  if (/\b5\.7\.9\b/.test(text) || /application-specific password required/i.test(text)) {
    return {
      hint: "Google wants an app password for this account (2-Step Verification is on): create one and store it in SMTPPassword, or sign in with OAuth2, SMTPAuthMethod oauth2-google (docs/google-workspace.md)",
    };
  }
  if (/\b5\.4\.5\b/.test(text) && /daily|quota/i.test(text)) {
    return {
      quota: true,
      hint: "Google's daily sending limit is spent: messages wait until it resets (a rolling 24 hours), and are not dead-lettered meanwhile",
    };
  }
  // Only the relay's peak limit is the sender's: "receiving mail too quickly" is one recipient's.
  if (/\b4\.2\.1\b/.test(text) && /peak/i.test(text)) {
    return { throttle: true, hint: "Google is limiting the rate (a peak limit): sending slows down" };
  }
  if (/\b5\.7\.8\b/.test(text) || /username and password not accepted/i.test(text)) {
    return {
      hint:
        s.SMTPAuthMethod === "password"
          ? "Google did not accept SMTPUsername/SMTPPassword: use an app password, or SMTPAuthMethod oauth2-google"
          : "Google did not accept the token for SMTPUsername: the service account needs domain-wide delegation for https://mail.google.com/, and SMTPUsername must be a user of its domain",
    };
  }
  if (/\b5\.7\.3\b/.test(text) || /authentication unsuccessful/i.test(text)) {
    return {
      hint:
        s.SMTPAuthMethod === "oauth2-microsoft"
          ? `Exchange Online did not accept the app's token for ${s.SMTPUsername}: grant the app SMTP.SendAsApp with admin consent, register its service principal in Exchange (New-ServicePrincipal) with FullAccess on the mailbox (Add-MailboxPermission), and enable SMTP AUTH for the mailbox (${OAUTH2_GUIDE})`
          : s.SMTPAuthMethod === "password"
            ? "the server did not accept the credentials: check SMTPUsername and SMTPPassword"
            : `the server did not accept the access token for ${s.SMTPUsername}: check what the token endpoint's client may do for that mailbox`,
    };
  }
  return undefined;
}
