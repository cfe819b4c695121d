/**
 * The connection test of Transport `ses`: the `api` stage asks SES, with the function's role,
 * what a send depends on: the account (sending enabled, in the sandbox or not, the rate and what
 * is left of the daily quota) and FeedbackEmail's identity (the address or its domain, verified
 * for sending). With a recipient, one test message is then sent, the `data` stage. Nothing is
 * sent without one: SES has no envelope to try.
 */

import { AwsServiceError } from "../aws/json-client.ts";
import { type EmailSettings, parseMessageTags } from "../settings/index.ts";
import { defaultEhloName } from "../smtp/ehlo.ts";
import {
  type ConnectionCheckResult,
  composeMessage,
  type OutgoingMessage,
  SmtpStageError,
  type StageResult,
} from "../smtp/index.ts";
import { settingsWarnings } from "../smtp/warnings.ts";
import { classifySesError, getAccount, getEmailIdentity, type SesApi, sendRawEmail } from "./api.ts";

/** What the `api` stage found. */
export interface SesFacts {
  /** The identity that lets FeedbackEmail send: the address, or its domain. */
  identity?: string;
  identityVerified: boolean;
  sendingEnabled?: boolean;
  /** True while the account is in the SES sandbox (verified recipients only, 200 a day). */
  sandbox?: boolean;
  /** Messages a second the account may send. */
  maxSendRate?: number;
  max24HourSend?: number;
  /** What is left of the rolling 24-hour quota. */
  remaining24Hours?: number;
}

export interface SesCheckOptions {
  /** SES signed with the function's role; made inside the check, so a missing client is its config stage's failure. */
  api: () => SesApi;
  send?: OutgoingMessage;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * The identity that lets FeedbackEmail send: the address if SES verified it, else its domain. An
 * address the role may not read (the stack grants the sending identity, often the domain alone)
 * or that is not verified yet does not hide a verified domain.
 */
async function senderIdentity(api: SesApi, settings: EmailSettings, timeoutMs: number) {
  const address = settings.FeedbackEmail;
  const domain = address.split("@")[1] ?? "";
  let pending: string | undefined;
  for (const identity of [address, domain]) {
    try {
      const found = await getEmailIdentity(api, identity, timeoutMs);
      // Either says so (moto_server, the tests' SES, sets only the second).
      if (found.VerifiedForSendingStatus === true || found.VerificationStatus === "SUCCESS") {
        return { identity, verified: true };
      }
      pending ??= identity;
    } catch (error) {
      const skip =
        error instanceof AwsServiceError &&
        (error.name === "NotFoundException" || (identity === address && /AccessDenied/.test(error.name)));
      if (!skip) throw error;
    }
  }
  return { identity: pending, verified: false };
}

export async function runSesCheck(
  settings: EmailSettings,
  options: SesCheckOptions,
): Promise<ConnectionCheckResult & { ses?: SesFacts }> {
  const stages: StageResult[] = [];
  const warnings = settingsWarnings(settings, defaultEhloName(settings));
  const timeoutMs = settings.SMTPServerTimeout * 1000;
  let start = performance.now();
  let stage: "config" | "api" | "data" = "config";
  let ses: SesFacts | undefined;
  const pass = () => {
    stages.push({ stage, ok: true, ms: round(performance.now() - start) });
    start = performance.now();
  };
  try {
    const composed = options.send ? await composeMessage(settings, options.send) : undefined;
    const api = options.api();
    pass();
    stage = "api";
    const [account, sender] = await Promise.all([
      getAccount(api, timeoutMs),
      senderIdentity(api, settings, timeoutMs),
    ]);
    const quota = account.SendQuota ?? {};
    ses = {
      ...(sender.identity ? { identity: sender.identity } : {}),
      identityVerified: sender.verified,
      ...(account.SendingEnabled === undefined ? {} : { sendingEnabled: account.SendingEnabled }),
      ...(account.ProductionAccessEnabled === undefined ? {} : { sandbox: !account.ProductionAccessEnabled }),
      ...(quota.MaxSendRate === undefined ? {} : { maxSendRate: quota.MaxSendRate }),
      ...(quota.Max24HourSend === undefined ? {} : { max24HourSend: quota.Max24HourSend }),
      ...(quota.Max24HourSend === undefined
        ? {}
        : { remaining24Hours: Math.max(0, quota.Max24HourSend - (quota.SentLast24Hours ?? 0)) }),
    };
    if (!sender.verified) {
      throw new SmtpStageError(
        sender.identity
          ? `Amazon SES has not verified ${sender.identity} for sending yet: finish its verification (docs/amazon-ses.md)`
          : `Amazon SES has no identity for FeedbackEmail ${settings.FeedbackEmail} or its domain in this region: verify one (docs/amazon-ses.md)`,
        { stage: "api", code: "IdentityNotVerified", transient: false },
      );
    }
    if (account.SendingEnabled === false) {
      throw new SmtpStageError(
        "sending is disabled for this SES account: enable it (SES console > Account dashboard)",
        {
          stage: "api",
          code: "SendingDisabled",
          transient: false,
        },
      );
    }
    if (ses.sandbox) {
      warnings.push(
        "the SES account is in the sandbox: it sends only to verified addresses, 200 a day at 1 a second; request production access (docs/amazon-ses.md)",
      );
    }
    if (ses.remaining24Hours === 0)
      warnings.push("the SES account's 24-hour quota is spent: messages wait until it allows more");
    pass();
    if (composed) {
      stage = "data";
      const tags = parseMessageTags(settings.SESMessageTags);
      await sendRawEmail(api, timeoutMs, {
        from: composed.envelope.from,
        to: composed.envelope.to,
        raw: composed.raw,
        ...(settings.SESConfigurationSet ? { configurationSet: settings.SESConfigurationSet } : {}),
        ...(Array.isArray(tags) ? { tags } : {}),
      });
      pass();
      return { ok: true, stages, warnings, ...(ses ? { ses } : {}), messageId: composed.messageId };
    }
    return { ok: true, stages, warnings, ...(ses ? { ses } : {}) };
  } catch (error) {
    const failure =
      error instanceof SmtpStageError
        ? error
        : error instanceof AwsServiceError || stage !== "config"
          ? classifySesError(error, settings, stage === "data" ? "SendEmail" : "GetAccount")
          : new SmtpStageError((error as Error).message, {
              stage: "config",
              code: (error as Error).name,
              transient: false,
            });
    stages.push({ stage: failure.stage, ok: false, ms: round(performance.now() - start) });
    return { ok: false, stages, warnings, ...(ses ? { ses } : {}), error: failure.toJSON() };
  }
}
