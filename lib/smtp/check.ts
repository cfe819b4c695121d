/**
 * The connection check behind the connection-test endpoint: open a session stage by stage
 * (config, dns, connect, tls, greeting, starttls, auth), then go as far as a real send goes
 * (MAIL FROM the sender and RCPT TO it, then RSET: "ok" means the server accepts the envelope)
 * or send one test message, and report every stage with whether it passed (on its own reply)
 * and how long it took, plus warnings about settings that work but will hurt in production.
 */
import { type AccessTokens, createAccessTokens, type TokenFacts, tokenFacts } from "../oauth2/index.ts";
import { type EmailSettings, isOAuth2Method } from "../settings/index.ts";
import { defaultEhloName } from "./ehlo.ts";
import { type SmtpStage, SmtpStageError } from "./errors.ts";
import { composeMessage, type OutgoingMessage } from "./message.ts";
import { checkSessionConfig, openSmtpSession, type SmtpSession, type SmtpSessionOptions } from "./session.ts";
import { settingsWarnings } from "./warnings.ts";

export interface StageResult {
  stage: SmtpStage;
  ok: boolean;
  /** Milliseconds, rounded to 0.1. */
  ms: number;
}

export interface ConnectionCheckResult {
  ok: boolean;
  stages: StageResult[];
  /** OAuth2: the token the check fetched (never the token itself). */
  token?: TokenFacts;
  /** Settings that work but will hurt in production; empty when there is nothing to say. */
  warnings: string[];
  error?: ReturnType<SmtpStageError["toJSON"]>;
  /** Set when a test message was sent. */
  messageId?: string;
}

export interface ConnectionCheckOptions extends SmtpSessionOptions {
  /** Send this message after authenticating; without it the check stops after RCPT (and RSET). */
  send?: OutgoingMessage;
}

/** A greeting slower than this share of SMTPServerTimeout leaves too little margin for a slow day. */
const GREETING_MARGIN = 0.5;

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * The check's tokens: its first ask fetches a new token (the check reports how the token endpoint
 * answers now, not what a cache remembers), and `seen` gets what may be said of it.
 */
function freshTokens(inner: AccessTokens, seen: (facts: TokenFacts) => void): AccessTokens {
  let asked = false;
  return {
    async get(s, ask) {
      const refresh = ask.refresh === true || !asked;
      asked = true;
      const token = await inner.get(s, { ...ask, refresh });
      seen(tokenFacts(token));
      return token;
    },
    prefetch() {},
  };
}

export async function runConnectionCheck(
  settings: EmailSettings,
  options: ConnectionCheckOptions = {},
): Promise<ConnectionCheckResult> {
  const stages: StageResult[] = [];
  let token: TokenFacts | undefined;
  const signsInWithToken = settings.EnableSMTPAuth && isOAuth2Method(settings.SMTPAuthMethod);
  const tokens = signsInWithToken
    ? freshTokens(options.tokens ?? createAccessTokens(), (facts) => {
        token = facts;
      })
    : options.tokens;
  const withToken = () => (token ? { token } : {});
  let stageStart = performance.now();
  const warnings = () => {
    const found = settingsWarnings(settings, options.ehloName ?? defaultEhloName(settings));
    const greeting = stages.find((s) => s.stage === "greeting" && s.ok);
    if (greeting && greeting.ms > settings.SMTPServerTimeout * 1000 * GREETING_MARGIN) {
      found.push(
        `the server took ${Math.round(greeting.ms)} ms to greet, over half of SMTPServerTimeout (${settings.SMTPServerTimeout} s): a slower day will time out; raise SMTPServerTimeout`,
      );
    }
    return found;
  };
  let session: SmtpSession | undefined;
  try {
    checkSessionConfig(settings);
    const composed = options.send ? await composeMessage(settings, options.send) : undefined;
    stages.push({ stage: "config", ok: true, ms: round(performance.now() - stageStart) });
    stageStart = performance.now();
    session = await openSmtpSession(settings, {
      ...options,
      ...(tokens ? { tokens } : {}),
      // The check reports how connecting goes now: never a socket opened during the cold start.
      preconnected: false,
      onStage: (stage, ms) => {
        stages.push({ stage, ok: true, ms: round(ms) });
        stageStart = performance.now();
      },
    });
    if (composed) {
      const sent = await session.send(composed);
      return { ok: true, stages, ...withToken(), warnings: warnings(), messageId: sent.messageId };
    }
    await session.checkEnvelope(settings.FeedbackEmail, settings.FeedbackEmail);
    return { ok: true, stages, ...withToken(), warnings: warnings() };
  } catch (error) {
    const failure =
      error instanceof SmtpStageError
        ? error
        : new SmtpStageError(error instanceof Error ? error.message : String(error), {
            stage: "config",
            code: error instanceof Error ? error.name : "EUNKNOWN",
            transient: false,
          });
    stages.push({ stage: failure.stage, ok: false, ms: round(performance.now() - stageStart) });
    return { ok: false, stages, ...withToken(), warnings: warnings(), error: failure.toJSON() };
  } finally {
    await session?.close();
  }
}
