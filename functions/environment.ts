/**
 * The functions' environment: every variable a function reads (besides the MM_* setting
 * overrides, lib/settings/env.ts, and AWS's own), with its rule and default, in one table. The
 * table is the type: `FunctionEnv` is derived from it, the stack sets variables by these names
 * (`FunctionEnvironment`), and a function reads them once per container (`readFunctionEnv`).
 *
 * Plain parsers rather than zod: the cold start reads two of these before the rest of the code
 * (and zod) has loaded (functions/cold-start.ts).
 */
import { DEFAULT_MAX_BULLETINS_PER_RUN } from "../lib/security-alerts/defaults.ts";
import { DEFAULT_CACHE_SECONDS } from "../lib/settings/cache.ts";
import { settingsRootPath, TRANSPORT_SETTINGS_VARIABLE } from "../lib/settings/parameters.ts";
import { parsePreconnectHint } from "../lib/smtp/preconnect.ts";

type Raw = string | undefined;

/** A variable's value broke its rule: the message names the variable, its value and the rule. */
export class InvalidEnvironmentError extends Error {
  override readonly name = "InvalidEnvironmentError";
}

const fail = (name: string, raw: string, rule: string): never => {
  throw new InvalidEnvironmentError(`${name} ${JSON.stringify(raw)} ${rule}`);
};

const wholeNumber =
  (min: number, max: number, fallback: number, unit = "") =>
  (raw: Raw, name: string): number => {
    if (raw === undefined || raw === "") return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      fail(name, raw, `must be a whole number${unit} from ${min} to ${max}`);
    }
    return Number(raw);
  };

const text = (raw: Raw): string | undefined => (raw === "" ? undefined : raw);

/** A positive number (fractions allowed: 0.25 a second), or undefined when unset. */
const positiveNumber = (raw: Raw, name: string): number | undefined => {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0)) fail(name, raw, "must be a positive number, such as 0.5 or 14");
  return n;
};

/** A whole number of at least 1, or undefined when unset. */
const positiveWholeNumber = (raw: Raw, name: string): number | undefined => {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw) || !(Number(raw) >= 1)) fail(name, raw, "must be a whole number, at least 1");
  return Number(raw);
};

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Every variable: what it means (for docs and the stack), and how its raw value is read. */
export const FUNCTION_VARIABLES = {
  /** SSM root of the settings, without a trailing slash. Default /mattermost. */
  SETTINGS_PATH: (raw: Raw) => settingsRootPath({ SETTINGS_PATH: raw }),
  /** How long a container reuses loaded settings, in seconds (0: load on every use). Default 60. */
  SETTINGS_CACHE_SECONDS: wholeNumber(0, 86_400, DEFAULT_CACHE_SECONDS, " of seconds"),
  /** `off` stops the cold start from reading the settings at init. */
  SETTINGS_PREFETCH: (raw: Raw): boolean => raw !== "off",
  /**
   * `true`: read the product's own settings (`<root>/EmailTransportSettings/…`) from SSM too. Set
   * by the stack when its context has emailTransportSettings (lib/settings/parameters.ts says why).
   */
  [TRANSPORT_SETTINGS_VARIABLE]: (raw: Raw): boolean => raw === "true",
  /** SMTP connections one batch may use at once. Default 1. */
  NOTIFICATION_POOL_SIZE: wholeNumber(1, 10, 1),
  /** Seconds an idle SMTP session is kept for the next warm batch (0: closed after each). Default 30. */
  SMTP_KEEPALIVE_SECONDS: wholeNumber(0, 300, 30, " of seconds"),
  /**
   * This container's share of the provider's send rate, messages a second (the stack divides the
   * fleet's rate by the queue's maximum concurrency). Unset: no limit.
   */
  SEND_RATE_PER_SECOND: positiveNumber,
  /**
   * The fleet's send schedule: a DynamoDB table every container takes its send slots from, so
   * their sends start apart (lib/notifications/fleet-schedule.ts), with FLEET_SEND_RATE_PER_SECOND;
   * without it, where the fleet keeps the rate it learned from the provider's throttles
   * (lib/notifications/learned-rate.ts) and counts its connections under the limit it learned
   * from the provider's refusal (lib/notifications/connection-leases.ts).
   */
  SEND_SCHEDULE_TABLE: text,
  /** The provider's rate for the whole fleet, messages a second: the schedule's spacing. */
  FLEET_SEND_RATE_PER_SECOND: positiveNumber,
  /**
   * The provider's connection limit for the whole fleet, when the stack knows it (and sized the
   * fleet under it). Unset with SEND_SCHEDULE_TABLE set: the fleet counts its connections in the
   * table and learns the limit from the provider's refusal (lib/notifications/connection-leases.ts).
   */
  FLEET_MAX_CONNECTIONS: positiveWholeNumber,
  /** The notification queue, for changing a record's visibility (a back-off after a throttle). */
  NOTIFICATION_QUEUE_URL: text,
  /** The dead-letter queue, where a record that can never succeed is put at once, with its reason. */
  DEAD_LETTER_QUEUE_URL: text,
  /** `host:port` to connect to during a cold start: a hint, the settings decide. */
  SMTP_PRECONNECT: (raw: Raw) => parsePreconnectHint(raw),
  /**
   * SMTP servers the connection test may reach, comma-separated (`smtp.example.com,*.example.net`).
   * Unset: any. Set by the stack from the testEndpointAllowedHosts context.
   */
  TEST_ALLOWED_SMTP_HOSTS: (raw: Raw): string[] | undefined => {
    const hosts = raw
      ?.split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    return hosts?.length ? hosts : undefined;
  },
  /**
   * Ports the connection test may reach on a host the request names, comma-separated
   * (`25,587,10025`), or `*` for any: instead of SMTP's 25, 465, 587 and 2525 for the SMTP server,
   * beside 443 for a token endpoint (the settings' own are always allowed). Unset: those defaults.
   * Set by the stack from the testEndpointAllowedPorts context.
   */
  TEST_ALLOWED_PORTS: (raw: Raw, name: string): number[] | "*" | undefined => {
    if (raw === undefined || raw.trim() === "") return undefined;
    if (raw.trim() === "*") return "*";
    const ports = raw.split(",").map((p) => p.trim());
    if (ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65_535)) {
      fail(name, raw, "must be ports from 1 to 65535, comma-separated, or *");
    }
    return [...new Set(ports.map(Number))];
  },
  /** Bulletin feed base URL (checked when alerts are on: lib/security-alerts/config.ts). */
  SECURITY_FEED_URL: text,
  /** The chat server's version; a bulletin applies when applies_to_version equals it. */
  APP_VERSION: text,
  /** Comma-separated admin addresses, over the <root>/SecurityAlerts/Recipients parameter. */
  SECURITY_ALERT_RECIPIENTS: (raw: Raw) => raw,
  /** Bulletins one run may mail at most; past it the run fails (its alarm). Default 5. */
  SECURITY_ALERT_MAX_PER_RUN: wholeNumber(1, 100, DEFAULT_MAX_BULLETINS_PER_RUN),
  /** Lowest log level written. Anything else than the four levels means info. */
  LOG_LEVEL: (raw: Raw): LogLevelName => {
    const level = raw?.toLowerCase();
    return LOG_LEVELS.find((l) => l === level) ?? "info";
  },
  /** The chat server's site URL: its host is the EHLO name, as the reference server uses. */
  MM_SERVICESETTINGS_SITEURL: text,
} as const;

export type FunctionEnvName = keyof typeof FUNCTION_VARIABLES;
export type FunctionEnv = { [K in FunctionEnvName]: ReturnType<(typeof FUNCTION_VARIABLES)[K]> };
/** What the stack may set on a function: these names only, as strings. */
export type FunctionEnvironment = Partial<Record<FunctionEnvName, string>>;
export type Env = Readonly<Record<string, string | undefined>>;

/** One variable, parsed (cheap: the cold start uses it before anything else has loaded). */
export function readVariable<K extends FunctionEnvName>(env: Env, name: K): FunctionEnv[K] {
  return (FUNCTION_VARIABLES[name] as (raw: Raw, name: string) => FunctionEnv[K])(env[name], name);
}

/** Every variable, parsed; the first broken rule throws an error naming the variable. */
export function readFunctionEnv(env: Env): FunctionEnv {
  return Object.fromEntries(
    (Object.keys(FUNCTION_VARIABLES) as FunctionEnvName[]).map((name) => [name, readVariable(env, name)]),
  ) as FunctionEnv;
}
