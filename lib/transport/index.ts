/**
 * How mail leaves, as the settings say (Transport): SMTP (lib/smtp/mailer.ts) or Amazon SES's API
 * (lib/aws-ses/mailer.ts). Both are a Mailer, so what sends (delivery, the alert check) never asks
 * which one it has.
 */
import type { Env } from "../aws/json-client.ts";
import { createSesMailer, type SesApi, sesApiFromEnv } from "../aws-ses/index.ts";
import type { EmailSettings } from "../settings/index.ts";
import { createMailer, type Mailer, type MailerOptions } from "../smtp/index.ts";

export interface TransportOptions extends MailerOptions {
  /** SES, for Transport `ses`, made on first use. Default: none (a send fails, naming what is missing). */
  ses?: () => SesApi;
}

/**
 * SES signed with this environment's credentials (Lambda's role), made when first needed and
 * kept: a function that sends by SMTP never makes it.
 */
export function sesFromEnv(env: Env): () => SesApi {
  let api: SesApi | undefined;
  return () => {
    api ??= sesApiFromEnv(env);
    if (!api) {
      throw new Error(
        "Transport is ses but the environment has no AWS credentials and region (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION)",
      );
    }
    return api;
  };
}

/** What a caller without an SES client gives: a send (or a test) fails, saying so. */
export const noSes = (): SesApi => {
  throw new Error("Transport is ses but this caller gave no SES client (AWS credentials and a region)");
};

export function openMailer(settings: EmailSettings, options: TransportOptions = {}): Mailer {
  if (settings.Transport === "ses") {
    const { poolSize, mayStart, pace, now } = options;
    return createSesMailer(settings, {
      api: options.ses ?? noSes,
      ...(poolSize === undefined ? {} : { poolSize }),
      ...(mayStart ? { mayStart } : {}),
      ...(pace ? { pace } : {}),
      ...(now ? { now } : {}),
    });
  }
  return createMailer(settings, options);
}
