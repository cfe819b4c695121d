/**
 * What every function builds once per container from its environment: the cached settings
 * loader, and the SMTP options that are not settings.
 */
import type { Context } from "aws-lambda";
import { createJsonLogger, type JsonLogger, type JsonLoggerOptions, type Logger } from "../lib/logger.ts";
import {
  cacheSecondsFromEnv,
  createCachedLoader,
  type LoadedEmailSettings,
  loadEmailSettings,
  type SettingsStore,
  ssmSettingsStore,
} from "../lib/settings/index.ts";
import type { SmtpSessionOptions } from "../lib/smtp/index.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** What every function's createHandler takes, so tests and the local run can pass real servers. */
export interface FunctionDeps {
  /** Default: process.env. */
  env?: Env;
  /** Default: SSM under SETTINGS_PATH. `null`: defaults and environment only. */
  store?: SettingsStore | null;
  /** Where log lines go. Default: stdout. */
  write?: (line: string) => void;
  /** Merged over the SMTP options from the environment. */
  smtp?: SmtpSessionOptions;
}

/**
 * What Lambda calls. middy's type makes callers supply the context fields its middlewares add
 * (logger, settings…); Lambda passes a plain Context, and the middlewares add them.
 */
export type LambdaFunction<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

export interface RuntimeOptions {
  env?: Env;
  /** Default: SSM under SETTINGS_PATH. */
  store?: SettingsStore | null;
  logger?: Logger;
}

/** The container's root logger for one function: JSON lines with `service` on each. */
export function createFunctionLogger(
  service: string,
  env: Env,
  write?: JsonLoggerOptions["write"],
): JsonLogger {
  const level = env.LOG_LEVEL?.toLowerCase();
  return createJsonLogger({
    fields: { service },
    ...(level === "debug" || level === "info" || level === "warn" || level === "error" ? { level } : {}),
    ...(write ? { write } : {}),
  });
}

/**
 * Sends may start while this much time is left: one session open and one send, each bounded by
 * SMTPServerTimeout, plus a margin to report. Later records are left for SQS to redeliver.
 */
export function sendReserveMs(smtpTimeoutSeconds: number): number {
  return 2 * smtpTimeoutSeconds * 1000 + 2000;
}

export function settingsLoader({ env = process.env, store, logger }: RuntimeOptions = {}) {
  const source = store === undefined ? ssmSettingsStore({ env }) : store;
  return createCachedLoader<LoadedEmailSettings>({
    load: () => loadEmailSettings({ env, store: source }),
    ttlSeconds: cacheSecondsFromEnv(env),
    ...(logger ? { logger } : {}),
  });
}

/** EHLO name: the host of the site URL (MM_SERVICESETTINGS_SITEURL) as the reference does, else localhost. */
export function smtpOptionsFromEnv(env: Env): SmtpSessionOptions {
  const siteUrl = env.MM_SERVICESETTINGS_SITEURL;
  let ehloName = "localhost";
  if (siteUrl) {
    try {
      ehloName = new URL(siteUrl).hostname || ehloName;
    } catch {
      // not a URL: keep localhost, as the reference does
    }
  }
  return { ehloName };
}

/** NOTIFICATION_POOL_SIZE: SMTP connections one batch may use at once (1 to 10). Default 1. */
export function poolSizeFromEnv(env: Env): number {
  const raw = env.NOTIFICATION_POOL_SIZE;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    throw new RangeError(`NOTIFICATION_POOL_SIZE ${JSON.stringify(raw)} must be a whole number from 1 to 10`);
  }
  return n;
}

/**
 * SMTP_KEEPALIVE_SECONDS: how long an idle SMTP session may be kept for the next warm batch
 * (0 closes it after every batch). Default 30: well under the 5 minutes RFC 5321 servers wait.
 */
export function keepAliveMsFromEnv(env: Env): number {
  const raw = env.SMTP_KEEPALIVE_SECONDS;
  if (raw === undefined || raw === "") return 30_000;
  if (!/^\d+$/.test(raw) || Number(raw) > 300) {
    throw new RangeError(
      `SMTP_KEEPALIVE_SECONDS ${JSON.stringify(raw)} must be a whole number of seconds from 0 to 300`,
    );
  }
  return Number(raw) * 1000;
}
