/**
 * The connection check behind the connection-test endpoint: open a session stage by stage
 * (config, dns, connect, tls, greeting, starttls, auth), then QUIT or send one test message,
 * and report every stage with whether it passed and how long it took.
 */
import type { EmailSettings } from "../settings/index.ts";
import { type SmtpStage, SmtpStageError } from "./errors.ts";
import { composeMessage, type OutgoingMessage } from "./message.ts";
import { checkSessionConfig, openSmtpSession, type SmtpSession, type SmtpSessionOptions } from "./session.ts";

export interface StageResult {
  stage: SmtpStage;
  ok: boolean;
  /** Milliseconds, rounded to 0.1. */
  ms: number;
}

export interface ConnectionCheckResult {
  ok: boolean;
  stages: StageResult[];
  error?: ReturnType<SmtpStageError["toJSON"]>;
  /** Set when a test message was sent. */
  messageId?: string;
}

export interface ConnectionCheckOptions extends SmtpSessionOptions {
  /** Send this message after authenticating; without it the check ends with QUIT. */
  send?: OutgoingMessage;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function runConnectionCheck(
  settings: EmailSettings,
  options: ConnectionCheckOptions = {},
): Promise<ConnectionCheckResult> {
  const stages: StageResult[] = [];
  let stageStart = performance.now();
  let session: SmtpSession | undefined;
  try {
    checkSessionConfig(settings);
    const composed = options.send ? await composeMessage(settings, options.send) : undefined;
    stages.push({ stage: "config", ok: true, ms: round(performance.now() - stageStart) });
    stageStart = performance.now();
    session = await openSmtpSession(settings, {
      ...options,
      // The check reports how connecting goes now: never a socket opened during the cold start.
      preconnected: false,
      onStage: (stage, ms) => {
        stages.push({ stage, ok: true, ms: round(ms) });
        stageStart = performance.now();
      },
    });
    if (composed) {
      const sent = await session.send(composed);
      return { ok: true, stages, messageId: sent.messageId };
    }
    return { ok: true, stages };
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
    return { ok: false, stages, error: failure.toJSON() };
  } finally {
    await session?.close();
  }
}
