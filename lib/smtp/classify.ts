/**
 * Turns what nodemailer, node:net, node:tls and node:dns throw into an SmtpStageError whose
 * message tells an operator what to change. The stage is the one the session was in. One file (a
 * little over 250 lines): one decision per failure, stage by stage, reads best in one place; what
 * the big providers' replies mean is apart (provider-replies.ts).
 */
import { TokenError } from "../oauth2/index.ts";
import type { EmailSettings } from "../settings/index.ts";
import { isTimeout } from "../timeouts.ts";
import { type SmtpStage, SmtpStageError } from "./errors.ts";
import { readProviderReply } from "./provider-replies.ts";
import { scrub, secretForms } from "./secrets.ts";

interface LibraryError extends Error {
  code?: string;
  /** nodemailer's (its NodemailerError type): the code before it set its own, ECONNREFUSED or a certificate's under ESOCKET. */
  originalCode?: string;
  timeoutType?: string;
  response?: string;
  responseCode?: number;
  command?: string;
}

const TRANSIENT_SYSTEM_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ECONNECTION",
]);

/** Certificate verification failures: permanent until someone changes a certificate or a setting. */
const CERT_CODES =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_UNTRUSTED|CERT_REJECTED)$/;

/**
 * A reply that means "this sender is over a limit, slow down": 421 at any stage (the server is
 * closing the channel: Postfix's anvil, Gmail's "try again later"); 450, 451 or 452 with an
 * enhanced code 4.7.x (policy, rate) or 4.3.2 (system busy, Microsoft 365's connection limit);
 * 432 4.3.2 (Microsoft 365's concurrent connections); 454 that says throttling (Amazon SES);
 * and the connection-count and rate refusals of common MTAs, whatever their code.
 */
export function isThrottleReply(responseCode: number | undefined, response: string | undefined): boolean {
  if (responseCode === undefined || responseCode < 400 || responseCode >= 500) return false;
  const text = response ?? "";
  if (responseCode === 421) return true;
  const enhanced = /\b4\.(7\.\d{1,3}|3\.2)\b/.test(text);
  if (
    (responseCode === 450 || responseCode === 451 || responseCode === 452 || responseCode === 432) &&
    enhanced
  )
    return true;
  if (responseCode === 454 && /throttl/i.test(text)) return true;
  return /too many (concurrent |simultaneous )?connections|connection (count|rate) limit|too much mail from|sending rate|rate limit(ed)? exceeded/i.test(
    text,
  );
}

/** A refusal that names a connection limit (Postfix's anvil: too many connections), not an outage. */
export function saysConnectionLimit(response: string | undefined): boolean {
  return /too many (concurrent |simultaneous )?connections|connection (count|rate) limit/i.test(
    response ?? "",
  );
}

export interface ClassifyContext {
  stage: SmtpStage;
  settings: EmailSettings;
  /** More secrets the session sent (an access token, in the forms XOAUTH2 sent it). Default none. */
  secrets?: readonly string[];
}

function describeTarget(s: EmailSettings): string {
  return `${s.SMTPServer}:${s.SMTPPort}`;
}

function certificateHint(code: string, s: EmailSettings): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the server's certificate does not name ${s.SMTPServer}: set SMTPServer to a name on the certificate, or set SkipServerCertificateVerification to true`;
  }
  if (code === "CERT_HAS_EXPIRED") {
    return "the server's certificate has expired: renew it, or set SkipServerCertificateVerification to true";
  }
  return `the server's certificate is not trusted (${code}): install a certificate from a trusted authority, or set SkipServerCertificateVerification to true`;
}

/**
 * The stage an SMTP command belongs to (EHLO to the greeting; after STARTTLS the session's repeat
 * EHLO is the upgrade's, which the caller knows). The command nodemailer says failed is the
 * surest sign of the stage, as PIPELINING sends several at once.
 */
export function stageOfCommand(command: string | undefined): SmtpStage | undefined {
  const verb = command?.split(" ")[0]?.toUpperCase();
  switch (verb) {
    case "EHLO":
    case "HELO":
    case "LHLO":
      return "greeting";
    case "STARTTLS":
      return "starttls";
    case "AUTH":
      return "auth";
    case "MAIL":
      return "mail-from";
    case "RCPT":
      return "rcpt";
    case "DATA":
      return "data";
    default:
      return undefined;
  }
}

/** The token endpoint refused or failed: the `token` stage, with the endpoint's own code and fix. */
function tokenStageError(error: TokenError): SmtpStageError {
  return new SmtpStageError(error.message, {
    stage: "token",
    code: error.code,
    transient: error.transient,
    ...(error.response === undefined ? {} : { response: error.response }),
    cause: error,
  });
}

export function classifySmtpError(error: unknown, context: ClassifyContext): SmtpStageError {
  if (error instanceof SmtpStageError) return error;
  if (error instanceof TokenError) return tokenStageError(error);
  const { settings } = context;
  const secrets = [...secretForms(settings.SMTPPassword, settings.SMTPUsername), ...(context.secrets ?? [])];
  const e: LibraryError = error instanceof Error ? error : new Error(String(error));
  const stage = stageOfCommand(e.command) ?? context.stage;
  const code = e.originalCode ?? e.code ?? "EUNKNOWN";
  const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const response = e.response ? scrub(e.response.trim(), secrets) : undefined;
  const reply = response ? ` (server said: ${response})` : "";
  const target = describeTarget(settings);
  const timeoutS = settings.SMTPServerTimeout;
  const base = {
    stage,
    code,
    ...(responseCode === undefined ? {} : { responseCode }),
    ...(response === undefined ? {} : { response }),
    ...(e.command && e.command !== "CONN" && e.command !== "API" ? { command: e.command } : {}),
    cause: error,
  };
  const provider = responseCode === undefined ? undefined : readProviderReply(response, settings);
  const throttle = isThrottleReply(responseCode, response) || provider?.throttle === true;
  const quota = provider?.quota === true;
  const withHint = (message: string) => (provider ? `${message}: ${provider.hint}` : message);
  const fail = (message: string, transient: boolean) =>
    new SmtpStageError(scrub(withHint(message), secrets), { ...base, transient, throttle, quota });

  if (isTimeout(e) || code === "ETIMEDOUT") {
    if (stage === "greeting" && settings.ConnectionSecurity !== "TLS" && settings.SMTPPort === 465) {
      return fail("port 465 expects implicit TLS: set ConnectionSecurity to TLS", false);
    }
    const what =
      stage === "connect"
        ? `no TCP connection to ${target} within ${timeoutS} s: check SMTPServer, SMTPPort and any firewall or security group between`
        : stage === "greeting"
          ? `${target} accepted the connection but sent no SMTP greeting within ${timeoutS} s: check that SMTPPort is an SMTP port and ConnectionSecurity matches it`
          : `${target} did not answer during ${stage} within ${timeoutS} s (SMTPServerTimeout)`;
    return fail(what, true);
  }

  if (responseCode !== undefined) {
    if (quota) return fail(`${target} refused at ${stage}${reply}`, true);
    if (throttle) {
      return fail(
        `${target} is limiting this sender at ${stage}${reply}: sending slows down and the message is tried again later; if this persists, set the provider's limits in the deployment (docs/delivery.md)`,
        true,
      );
    }
    const transient = responseCode >= 400 && responseCode < 500;
    switch (stage) {
      case "greeting":
        return fail(`${target} refused the session${reply}`, transient);
      case "starttls":
        return transient
          ? fail(`${target} cannot start TLS right now${reply}`, true)
          : fail(
              `${target} does not offer STARTTLS${reply}: set ConnectionSecurity to TLS if the port speaks implicit TLS (usually 465), or use a server that supports STARTTLS`,
              false,
            );
      case "auth":
        if (transient) return fail(`${target} could not authenticate right now${reply}`, true);
        if (settings.SMTPAuthMethod !== "password") {
          return fail(
            `${target} rejected the ${settings.SMTPAuthMethod} access token for ${settings.SMTPUsername}${reply}`,
            false,
          );
        }
        return provider
          ? fail(`${target} rejected SMTPUsername/SMTPPassword${reply}`, false)
          : fail(
              `${target} rejected SMTPUsername/SMTPPassword${reply}: check the credentials, and that the account may send mail`,
              false,
            );
      case "mail-from":
        return fail(
          `${target} rejected the sender FeedbackEmail ${settings.FeedbackEmail}${reply}`,
          transient,
        );
      case "rcpt":
        return fail(`${target} rejected the recipient${reply}`, transient);
      case "data":
        return fail(`${target} rejected the message${reply}`, transient);
      default:
        return fail(`${target} failed at ${stage}${reply}`, transient);
    }
  }

  if (CERT_CODES.test(code)) return fail(certificateHint(code, settings), false);

  switch (stage) {
    case "dns":
      return fail(
        code === "ENOTFOUND"
          ? `SMTPServer ${settings.SMTPServer} does not resolve: check the host name`
          : `could not resolve SMTPServer ${settings.SMTPServer} (${code})`,
        code !== "ENOTFOUND",
      );
    case "connect":
      return fail(
        code === "ECONNREFUSED"
          ? `nothing accepts connections on ${target}: check SMTPServer and SMTPPort`
          : `could not connect to ${target} (${code}): check SMTPServer, SMTPPort and the network path`,
        TRANSIENT_SYSTEM_CODES.has(code) || code === "ESOCKET",
      );
    case "tls":
      return fail(
        /wrong version number|packet length too long|unknown protocol|ssl3_get_record/i.test(e.message)
          ? `${target} did not answer with TLS: set ConnectionSecurity to STARTTLS (usually port 587 or 25) or "" for this port`
          : `TLS handshake with ${target} failed (${code}): ${e.message}`,
        TRANSIENT_SYSTEM_CODES.has(code),
      );
    case "starttls":
      return fail(
        `STARTTLS upgrade with ${target} failed (${code}): ${e.message}`,
        TRANSIENT_SYSTEM_CODES.has(code),
      );
    case "greeting":
      if (settings.ConnectionSecurity !== "TLS" && settings.SMTPPort === 465) {
        return fail("port 465 expects implicit TLS: set ConnectionSecurity to TLS", false);
      }
      return fail(`${target} closed the connection before the SMTP session began (${code})`, true);
    default:
      return fail(`${stage} failed with ${target} (${code}): ${e.message}`, TRANSIENT_SYSTEM_CODES.has(code));
  }
}
