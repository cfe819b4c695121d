/**
 * The mailer of Transport `ses`: the same Mailer as SMTP's (lib/smtp/mailer.ts), so delivery and
 * the alert check are the same code for both. Each message is composed into exactly the bytes the
 * SMTP path would send (composeMessage), then handed to SES's SendEmail as raw MIME, the envelope's
 * recipients as its destination. No connection to open, so no session: `poolSize` calls at once,
 * each bounded by SMTPServerTimeout; the pace and `mayStart` apply as to SMTP sends, and once SES
 * throttles the batch (or its daily quota is spent) no new send starts in it.
 */
import { type EmailSettings, parseMessageTags } from "../settings/index.ts";
import {
  composeMessage,
  type Mailer,
  type MailerOptions,
  NotStartedError,
  type SendResult,
  type SmtpStageError,
} from "../smtp/index.ts";
import { classifySesError, type SesApi, sendRawEmail } from "./api.ts";

export interface SesMailerOptions extends Pick<MailerOptions, "poolSize" | "mayStart" | "pace" | "now"> {
  /** SES, signed with the function's role. Created on first use by `api()` when a send needs it. */
  api: () => SesApi;
}

export function createSesMailer(settings: EmailSettings, options: SesMailerOptions): Mailer {
  const limit = Math.max(1, options.poolSize ?? 1);
  const tags = parseMessageTags(settings.SESMessageTags);
  let running = 0;
  const waiting: Array<() => void> = [];
  let closed = false;
  let stoppedBy: SmtpStageError | undefined;

  const stopped = (): Error | undefined => {
    if (closed) return new NotStartedError("the mailer is closed");
    if (stoppedBy) {
      return new NotStartedError(`not started: Amazon SES refused this batch (${stoppedBy.code})`, {
        afterThrottle: true,
        afterQuota: stoppedBy.quota,
      });
    }
    if (options.mayStart && !options.mayStart()) {
      return new NotStartedError("not started: too little time left in this invocation");
    }
    return undefined;
  };
  const take = (): Promise<void> => {
    if (running < limit) {
      running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const give = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    sessionsOpened: 0,
    async send(message): Promise<SendResult> {
      const composed = await composeMessage(settings, message, options.now ? { now: options.now() } : {});
      await take();
      try {
        let stop = stopped();
        if (stop) throw stop;
        if (options.pace) {
          await options.pace();
          stop = stopped();
          if (stop) throw stop;
        }
        const started = performance.now();
        const id = await sendRawEmail(options.api(), settings.SMTPServerTimeout * 1000, {
          from: composed.envelope.from,
          to: composed.envelope.to,
          raw: composed.raw,
          ...(settings.SESConfigurationSet ? { configurationSet: settings.SESConfigurationSet } : {}),
          ...(Array.isArray(tags) ? { tags } : {}),
        }).catch((error: unknown) => {
          const failure = classifySesError(error, settings);
          if (failure.throttle || failure.quota) stoppedBy ??= failure;
          throw failure;
        });
        return {
          messageId: composed.messageId,
          response: `250 Amazon SES accepted it as ${id}`,
          accepted: [...composed.envelope.to],
          rejected: [],
          transactionMs: performance.now() - started,
        };
      } finally {
        give();
      }
    },
    async close() {
      closed = true;
    },
  };
}
