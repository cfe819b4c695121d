/**
 * Which protocol stage an SMTP session is in, and the time bound on each operation. Kept apart
 * from the socket and the session so every failure, however it arrives, is blamed on one stage:
 *
 * - the stage clock: where the session is and since when (the connection check's timings);
 * - the reply tracker: which reply the session waits for, read from the transaction log;
 * - `bounded`: SMTPServerTimeout for one whole operation (opening a session, sending a message),
 *   enforced by a guard however the server behaves.
 */
import type { EmailSettings } from "../settings/index.ts";
import { classifySmtpError, stageOfCommand } from "./classify.ts";
import { type SmtpStage, SmtpStageError } from "./errors.ts";
import type { TransactionLine } from "./nodemailer-internals.ts";

/** How far past SMTPServerTimeout the whole-operation guard fires: the stage timers fire first. */
const GUARD_SLACK_MS = 250;

/** Told when a stage completes, with its duration in ms. */
export type StageListener = (stage: SmtpStage, ms: number) => void;

/**
 * Where the session is and since when: `enter` completes the current stage (reporting its
 * duration) and starts the next; `restart` starts a new operation without reporting.
 */
export function stageClock(onStage: StageListener | undefined) {
  let current: SmtpStage = "dns";
  let since = performance.now();
  return {
    get current() {
      return current;
    },
    enter(next: SmtpStage) {
      if (next === current) return;
      const now = performance.now();
      onStage?.(current, now - since);
      current = next;
      since = now;
    },
    finish() {
      onStage?.(current, performance.now() - since);
    },
    restart(stage: SmtpStage) {
      current = stage;
      since = performance.now();
    },
  };
}
export type StageClock = ReturnType<typeof stageClock>;

/**
 * Runs one bounded operation. Each stage's own timer gets what is left of SMTPServerTimeout; a
 * guard a little past it aborts whatever is still waiting (a server trickling replies). A
 * failure anywhere becomes an SmtpStageError for the stage the clock is in.
 */
export async function bounded<T>(
  settings: EmailSettings,
  clock: StageClock,
  onTimeout: () => void,
  run: (remaining: () => number) => Promise<T>,
  secrets: () => readonly string[] = () => [],
): Promise<T> {
  const budgetMs = settings.SMTPServerTimeout * 1000;
  const deadline = performance.now() + budgetMs;
  let guard: NodeJS.Timeout | undefined;
  const guardFired = new Promise<never>((_, reject) => {
    guard = setTimeout(() => {
      onTimeout();
      reject(
        new SmtpStageError(
          `the SMTP exchange with ${settings.SMTPServer}:${settings.SMTPPort} took longer than SMTPServerTimeout (${settings.SMTPServerTimeout} s) during ${clock.current}`,
          { stage: "timeout", code: "ETIMEDOUT", transient: true },
        ),
      );
    }, budgetMs + GUARD_SLACK_MS);
  });
  try {
    return await Promise.race([run(() => Math.max(1, Math.round(deadline - performance.now()))), guardFired]);
  } catch (error) {
    throw classifySmtpError(error, { stage: clock.current, settings, secrets: secrets() });
  } finally {
    clearTimeout(guard);
  }
}

/**
 * Follows the session's transaction log (nodemailer-internals.ts: commands, with AUTH secrets
 * masked, and replies) to know which reply the session is waiting for, so a timeout or a dropped
 * connection is blamed on the right stage. With PIPELINING several commands go out at once: the
 * stage is that of the oldest command not answered yet.
 */
export function replyTracker(onStage: (stage: SmtpStage) => void): (line: TransactionLine) => void {
  /** RSET, QUIT and NOOP belong to no stage: their replies never move the clock. */
  const HOUSEKEEPING = "housekeeping" as const;
  const pending: Array<SmtpStage | typeof HOUSEKEEPING> = ["greeting"]; // awaited before any command
  let last: SmtpStage = "greeting";
  let upgraded = false;
  const stageOf = (command: string): SmtpStage => {
    const stage = stageOfCommand(command);
    if (stage === "starttls") upgraded = true;
    if (stage === "greeting" && upgraded) return "starttls";
    return stage ?? last; // AUTH LOGIN's continuation lines
  };
  /**
   * A refusal (4xx, 5xx) ends the exchange's progress: its stage is the one that failed, and the
   * replies to commands pipelined after it (503 "need MAIL first") must not mark it passed. The
   * next exchange (the client speaking after every reply is in) starts afresh.
   */
  let refused = false;
  const current = () => pending.find((p): p is SmtpStage => p !== HOUSEKEEPING) ?? last;
  return (line) => {
    if (line.from === "client") {
      if (/^(RSET|QUIT|NOOP)\b/i.test(line.text)) {
        pending.push(HOUSEKEEPING);
        return;
      }
      if (pending.length === 0) refused = false;
      last = stageOf(line.text);
      pending.push(last);
      if (!refused) onStage(current());
      return;
    }
    if (line.status === undefined) return; // not a complete reply
    const answered = pending.shift();
    if (answered === HOUSEKEEPING || refused) return;
    if (line.status >= 400) {
      refused = true;
      return;
    }
    onStage(current());
  };
}
