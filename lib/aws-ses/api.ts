/**
 * Amazon SES v2 over its REST-JSON API, signed with the credentials Lambda puts in the
 * environment (the function's role): the lite client (lib/aws/json-client.ts), so a cold start
 * loads none of the AWS SDK. Three calls: SendEmail with the raw MIME message, and the connection
 * test's GetAccount and GetEmailIdentity. Each SES refusal becomes an SmtpStageError of the stage
 * it is about, so delivery treats it as it treats an SMTP server's (lib/notifications/outcome.ts):
 *
 * - a rate (TooManyRequestsException, "Maximum sending rate exceeded"): a throttle;
 * - the daily quota ("Daily message quota exceeded"): a quota, tried again after it resets;
 * - the message's own fault (MessageRejected for its content, or for a recipient the sandbox has
 *   not verified): stage `rcpt` or `data`, permanent: dead-lettered with SES's reason;
 * - the account's or the settings' fault (the sender not verified, MailFromDomainNotVerified,
 *   AccountSuspended, SendingPaused, a configuration set that does not exist, a role that may not
 *   send): stage `api`, permanent but an operator's to fix, so retried with back-off, never
 *   dead-lettered at once;
 * - no answer, or a 5xx: transient.
 */
import {
  AwsServiceError,
  type Env,
  type LiteClientOptions,
  liteRestJsonClient,
  type RestJsonClient,
  type RestJsonService,
} from "../aws/json-client.ts";
import type { EmailSettings } from "../settings/index.ts";
import { type SmtpStage, SmtpStageError } from "../smtp/index.ts";
import { isTimeout } from "../timeouts.ts";

export const SESV2_SERVICE: RestJsonService = {
  signingName: "ses",
  endpointPrefix: "email",
  endpointVariable: "SESV2",
};

export type SesApi = RestJsonClient;

/**
 * The SES v2 client of this environment's credentials and region, or undefined without them.
 * One attempt a call: a SendEmail the service may have accepted is never sent twice, and a
 * throttle is delivery's to pace, not the client's to retry.
 */
export function sesApiFromEnv(env: Env, options: LiteClientOptions = {}): SesApi | undefined {
  return liteRestJsonClient(SESV2_SERVICE, env, { maxAttempts: 1, ...options });
}

export interface SesSendInput {
  from: string;
  to: readonly string[];
  raw: Buffer;
  configurationSet?: string;
  tags?: ReadonlyArray<{ Name: string; Value: string }>;
}

/** One SendEmail, within `timeoutMs`; SES's MessageId. */
export async function sendRawEmail(api: SesApi, timeoutMs: number, input: SesSendInput): Promise<string> {
  const out = await api.request<{ MessageId?: unknown }>({
    method: "POST",
    timeoutMs,
    path: "/v2/email/outbound-emails",
    body: {
      FromEmailAddress: input.from,
      Destination: { ToAddresses: input.to },
      Content: { Raw: { Data: input.raw.toString("base64") } },
      ...(input.configurationSet ? { ConfigurationSetName: input.configurationSet } : {}),
      ...(input.tags?.length ? { EmailTags: input.tags } : {}),
    },
  });
  if (typeof out.MessageId !== "string" || out.MessageId === "") {
    throw new AwsServiceError("InvalidResponse", "SES answered without a MessageId", 200);
  }
  return out.MessageId;
}

/** GetAccount's answer, as the connection test reports it. */
export interface SesAccount {
  SendingEnabled?: boolean;
  ProductionAccessEnabled?: boolean;
  EnforcementStatus?: string;
  SendQuota?: { Max24HourSend?: number; MaxSendRate?: number; SentLast24Hours?: number };
}

export const getAccount = (api: SesApi, timeoutMs: number) =>
  api.request<SesAccount>({ method: "GET", path: "/v2/email/account", timeoutMs });

export interface SesIdentity {
  IdentityType?: string;
  VerifiedForSendingStatus?: boolean;
  VerificationStatus?: string;
}

export const getEmailIdentity = (api: SesApi, identity: string, timeoutMs: number) =>
  api.request<SesIdentity>({
    method: "GET",
    path: `/v2/email/identities/${encodeURIComponent(identity).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    timeoutMs,
  });

/** The identities SES named as not verified ("…failed the check in region X: a@b, c@d"). */
function unverifiedIdentities(message: string): string[] {
  const list = /failed the check in region [^:]+:\s*(.+)$/i.exec(message)?.[1] ?? "";
  return list
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

const SETTINGS_CODES = new Set([
  "MailFromDomainNotVerifiedException",
  "AccountSuspendedException",
  "SendingPausedException",
  "NotFoundException",
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
]);

const SETTINGS_FIXES: Record<string, string> = {
  MailFromDomainNotVerifiedException:
    "the custom MAIL FROM domain of FeedbackEmail's identity is not verified: publish its MX and SPF records (SES console > Identities > Custom MAIL FROM domain)",
  AccountSuspendedException:
    "SES has suspended sending for this account: see the SES console's Reputation metrics and AWS Support",
  SendingPausedException:
    "sending is paused for this account or the configuration set SESConfigurationSet: resume it in the SES console",
  NotFoundException:
    "the configuration set SESConfigurationSet does not exist in this region: create it, or unset SESConfigurationSet",
  AccessDeniedException:
    "the function's role may not do this with SES: deploy with emailTransportSettings Transport ses and sesIdentity, and name SESConfigurationSet there too (docs/amazon-ses.md)",
};

/** SES's answer (or its silence) to `operation` as a send's typed error. */
export function classifySesError(
  error: unknown,
  settings: EmailSettings,
  operation: "SendEmail" | "GetAccount" | "GetEmailIdentity" = "SendEmail",
): SmtpStageError {
  if (error instanceof SmtpStageError) return error;
  const target = "Amazon SES";
  if (!(error instanceof AwsServiceError)) {
    const code = (error as { code?: string }).code ?? (error as Error).name ?? "EUNKNOWN";
    return new SmtpStageError(
      isTimeout(error)
        ? `${target} did not answer within ${settings.SMTPServerTimeout} s (SMTPServerTimeout)`
        : `${target} could not be reached (${code}): ${(error as Error).message}`,
      { stage: "api", code, transient: true, cause: error },
    );
  }
  const { name: code, message } = error;
  const said = ` (SES said: ${message})`;
  const fail = (
    stage: SmtpStage,
    text: string,
    more: { transient?: boolean; throttle?: boolean; quota?: boolean } = {},
  ) =>
    new SmtpStageError(text, {
      stage,
      code,
      transient: more.transient ?? false,
      ...(more.throttle ? { throttle: true } : {}),
      ...(more.quota ? { quota: true } : {}),
      response: `${code}: ${message}`,
      command: operation,
      cause: error,
    });

  if (/daily message quota exceeded/i.test(message)) {
    return fail(
      "api",
      `${target}'s daily sending quota is spent${said}: messages wait until it allows more (a rolling 24 hours), and are not dead-lettered meanwhile; ask AWS to raise it`,
      { quota: true },
    );
  }
  if (
    code === "TooManyRequestsException" ||
    code === "LimitExceededException" ||
    /rate exceeded|throttl/i.test(message)
  ) {
    return fail(
      "api",
      `${target} is limiting this sender${said}: sending slows down and the message is tried again later; set maxSendRate to the account's rate (docs/delivery.md)`,
      { throttle: true },
    );
  }
  if (code === "MessageRejected") {
    const unverified = unverifiedIdentities(message);
    const sender = settings.FeedbackEmail.toLowerCase();
    const senderDomain = sender.split("@")[1] ?? "";
    // SES lists the identities it has not verified; a refusal naming the sender (its sending
    // authorisation) is about the sender too.
    if (
      unverified.some((id) => id === sender || id === senderDomain) ||
      message.toLowerCase().includes(sender)
    ) {
      return fail(
        "api",
        `${target} has not verified FeedbackEmail ${settings.FeedbackEmail} (nor its domain) for sending${said}: verify the identity in this region (docs/amazon-ses.md)`,
      );
    }
    if (unverified.length > 0) {
      return fail(
        "rcpt",
        `${target} refused the recipient${said}: the account is in the SES sandbox, which sends only to verified addresses; request production access (docs/amazon-ses.md)`,
      );
    }
    return fail("data", `${target} rejected the message${said}`);
  }
  const refused = operation === "SendEmail" ? "refused to send" : `refused ${operation}`;
  if (SETTINGS_CODES.has(code)) {
    return fail(
      "api",
      `${target} ${refused}${said}: ${SETTINGS_FIXES[code] ?? "check the account, the role and the settings"}`,
    );
  }
  if (code === "BadRequestException")
    return fail("data", `${target} rejected the request for this message${said}`);
  if (error.status >= 500)
    return fail("api", `${target} failed (HTTP ${error.status})${said}`, { transient: true });
  return fail("api", `${target} ${refused}${said}`);
}
