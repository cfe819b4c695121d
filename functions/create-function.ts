/**
 * One way to wire a function. What every function builds once per container (its typed
 * environment, a JSON logger with `service`, the cached settings loader, the SMTP options that
 * are not settings) is built here; a function's own file says only what is special about it:
 * its extra middlewares and its handler. The pipeline is always
 *
 *   outer middlewares → structured logging → event parsing → email settings → handler
 *
 * The event is parsed before the settings are loaded, so a malformed event fails without I/O.
 *
 * Tests and the local run pass real servers through `FunctionDeps`.
 */

import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { createJsonLogger, type JsonLogger } from "../lib/logger.ts";
import { createMetricsPublisher, type MetricValues } from "../lib/metrics/index.ts";
import { createAccessTokens } from "../lib/oauth2/index.ts";
import {
  type CachedLoader,
  createCachedLoader,
  type EmailSettings,
  type LoadedEmailSettings,
  loadEmailSettings,
  parseServiceAccountKey,
  SECRET_SETTINGS,
  type SettingsStore,
  ssmSettingsStore,
} from "../lib/settings/index.ts";
import { secretForms, siteUrlHost } from "../lib/smtp/index.ts";
import { sesFromEnv, type TransportOptions } from "../lib/transport/index.ts";
import { type Env, type FunctionEnv, readFunctionEnv } from "./environment.ts";
import { structuredLogging } from "./middleware/logging.ts";
import { emailSettings, type SettingsContext } from "./middleware/settings.ts";

export const FUNCTION_NAMES = ["send-notification", "security-alert-check", "connection-test"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** What every function's createHandler takes, so tests and the local run can pass real servers. */
export interface FunctionDeps {
  /** Default: process.env. */
  env?: Env;
  /** Default: SSM under SETTINGS_PATH. `null`: defaults and environment only. */
  store?: SettingsStore | null;
  /** Where log lines go. Default: stdout. */
  write?: (line: string) => void;
  /** Merged over the mail options from the environment (a CA, a token cache, an SES client…). */
  smtp?: TransportOptions;
}

/** What a function's definition gets, built once per container. */
export interface FunctionSetup {
  /** The typed environment (functions/environment.ts). */
  env: FunctionEnv;
  /** The raw environment, for the MM_* overrides and the AWS variables. */
  rawEnv: Env;
  /** The container's root logger; each invocation logs through a child with its request id. */
  logger: JsonLogger;
  settings: CachedLoader<LoadedEmailSettings>;
  /**
   * How mail leaves, for every mailer the function opens: the EHLO name from the site URL (when
   * set), the container's OAuth2 tokens, SES signed with the function's role; merged with `deps.smtp`.
   */
  smtp: TransportOptions;
  /** Publishes metrics (lib/metrics: EMF lines where the log lines go), for the settings' transport. */
  metrics: (values: MetricValues, transport: string) => void;
}

type Middleware<TEvent, TResult, TContext> = MiddlewareObj<TEvent, TResult, Error, TContext>;

/** A function's own parts: everything else is shared. */
export interface FunctionDefinition<TEvent, TResult, TContext extends SettingsContext> {
  /** Around logging (so they see its errors last): HTTP error rendering. */
  outer?: Array<Middleware<TEvent, TResult, TContext>>;
  /** After logging, before the settings load: body parsing, record parsing, error mapping. */
  parse?: Array<Middleware<TEvent, TResult, TContext>>;
  handler: (event: TEvent, context: TContext) => Promise<TResult>;
}

/**
 * What Lambda calls. middy's type asks callers for the context fields its middlewares add
 * (logger, settings…); Lambda passes a plain Context and the middlewares add them, so the
 * one cast of the pipeline to this type lives here.
 */
export type LambdaFunction<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/** The EHLO name from the site URL's host (lib/smtp/ehlo.ts); without one the session's default applies. */
function ehloNameFrom(siteUrl: string | undefined): { ehloName?: string } {
  const host = siteUrlHost(siteUrl);
  return host ? { ehloName: host } : {};
}

/**
 * Every form in which the settings' secrets could reach a log line: the password as SMTP AUTH
 * sends it, each OAuth2 secret whole, and the private key inside a service account's JSON key.
 */
export function settingSecrets(values: EmailSettings): string[] {
  const forms = secretForms(values.SMTPPassword, values.SMTPUsername);
  for (const name of SECRET_SETTINGS) {
    const value = values[name];
    if (name !== "SMTPPassword" && typeof value === "string" && value !== "") forms.push(value);
  }
  const key = values.OAuth2ServiceAccountKey
    ? parseServiceAccountKey(values.OAuth2ServiceAccountKey)
    : undefined;
  if (key && "private_key" in key) forms.push(key.private_key);
  return forms;
}

/** Access tokens a container's logger scrubs at once: the newest. */
export const SCRUBBED_TOKENS = 8;

/** The token fetch a cold start begins as soon as the settings (and so the secret) are read. */
const TOKEN_PREFETCH_TIMEOUT_MS = 10_000;

export function createFunction<TEvent, TResult, TContext extends SettingsContext = SettingsContext>(
  service: FunctionName,
  deps: FunctionDeps,
  define: (setup: FunctionSetup) => FunctionDefinition<TEvent, TResult, TContext>,
): LambdaFunction<TEvent, TResult> {
  const rawEnv = deps.env ?? process.env;
  const env = readFunctionEnv(rawEnv);
  const logger = createJsonLogger({
    fields: { service },
    level: env.LOG_LEVEL,
    ...(deps.write ? { write: deps.write } : {}),
  });
  const store = deps.store === undefined ? ssmSettingsStore({ env: rawEnv }) : deps.store;
  // The container's access tokens: each one fetched is scrubbed from its log lines, the newest few
  // (older ones are out of use: the cache keeps one a client), so the list does not grow with
  // every connection test's fresh token.
  const recentTokens: string[] = [];
  const tokens =
    deps.smtp?.tokens ??
    createAccessTokens({
      onToken: (token) => {
        logger.addSecret(token);
        recentTokens.push(token);
        if (recentTokens.length > SCRUBBED_TOKENS) logger.removeSecret(recentTokens.shift() as string);
      },
    });
  const settings = createCachedLoader<LoadedEmailSettings>({
    load: async () => {
      const loaded = await loadEmailSettings({ env: rawEnv, store });
      // The stored secrets are scrubbed from every line the container writes; a password typed
      // into one request is scrubbed by that request's logger alone (connection-test.ts).
      for (const form of settingSecrets(loaded.values)) logger.addSecret(form);
      // The token's round trips start now, overlapping the SMTP connection's opening.
      tokens.prefetch(
        loaded.values,
        Math.min(TOKEN_PREFETCH_TIMEOUT_MS, loaded.values.SMTPServerTimeout * 1000),
      );
      return loaded;
    },
    ttlSeconds: env.SETTINGS_CACHE_SECONDS,
    logger,
  });
  const smtp: TransportOptions = {
    ...ehloNameFrom(env.MM_SERVICESETTINGS_SITEURL),
    tokens,
    ses: sesFromEnv(rawEnv),
    ...deps.smtp,
  };
  const writeLine = deps.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const functionName = rawEnv.AWS_LAMBDA_FUNCTION_NAME ?? service;
  const metrics = (values: MetricValues, transport: string) =>
    createMetricsPublisher({ functionName, transport, write: writeLine }).publish(values);
  const { outer = [], parse = [], handler } = define({ env, rawEnv, logger, settings, smtp, metrics });

  const pipeline = middy<TEvent, TResult, Error, TContext>();
  for (const m of outer) pipeline.use(m);
  pipeline.use(structuredLogging(logger) as Middleware<TEvent, TResult, TContext>);
  for (const m of parse) pipeline.use(m);
  pipeline.use(emailSettings({ load: settings.get }) as Middleware<TEvent, TResult, TContext>);
  return pipeline.handler(handler) as unknown as LambdaFunction<TEvent, TResult>;
}
