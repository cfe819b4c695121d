/**
 * The connection test: the caller's settings applied over the effective ones for this test only
 * (nothing is saved), the reference console's password-mask rule (for every secret), the hosts
 * and ports a test may reach (a request must not make the function a port scanner), then the
 * staged check (SMTP's, or SES's) and, with `to`, one test message. One file (a little under 300
 * lines): each guard exists for what the others allow, and reads best beside them. What a request
 * typed is kept out of its answers by typed-secrets.ts.
 */

import * as z from "zod/mini";
import { runSesCheck, type SesFacts } from "../aws-ses/check.ts";
import { tokenEndpointOf } from "../oauth2/index.ts";
import {
  credentialInUse,
  type EmailSettings,
  InvalidSettingsError,
  isOAuth2Method,
  PASSWORD_MASK,
  type RedactedEmailSettings,
  type ResolvedEmailSettings,
  redactSettings,
  resolveEmailSettings,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
  type SettingsLayer,
} from "../settings/index.ts";
import { type ConnectionCheckResult, runConnectionCheck } from "../smtp/index.ts";
import { noSes, type TransportOptions } from "../transport/index.ts";
import "../zod.ts"; // English messages

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

/** The request body: any EmailSettings fields by their reference names, and an optional recipient. */
export const ConnectionTestRequestSchema = z.strictObject({
  settings: z.optional(
    z.strictObject(
      Object.fromEntries(SETTING_NAMES.map((name) => [name, z.optional(settingValue)])) as Record<
        SettingName,
        z.ZodMiniOptional<typeof settingValue>
      >,
    ),
  ),
  to: z.optional(z.email({ error: "must be an email address" })),
});
export type ConnectionTestRequest = z.infer<typeof ConnectionTestRequestSchema>;

export const TEST_MESSAGE = {
  subject: "Mattermost - Testing Email Settings",
  text: "It appears your Mattermost email is setup correctly!",
} as const;

export interface ConnectionTestResponse extends ConnectionCheckResult {
  settings: RedactedEmailSettings;
  /** Transport ses: what the account and the sender's identity allow. */
  ses?: SesFacts;
}

/** The request cannot be tested as given: the status and message to answer with. */
export class ConnectionTestRequestError extends Error {
  override readonly name = "ConnectionTestRequestError";
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** The effective settings as a layer, leaving out defaults so derived ones (EnableSMTPAuth) re-derive. */
function effectiveLayer({ values, sources }: ResolvedEmailSettings): SettingsLayer {
  return SETTING_NAMES.filter((name) => sources[name].layer !== "default").map((name) => ({
    setting: name,
    value: values[name],
    source: sources[name],
  }));
}

function requestLayer(overrides: Partial<Record<SettingName, unknown>>): SettingsLayer {
  return Object.entries(overrides)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ({
      setting: name as SettingName,
      value,
      source: { layer: "request" as const, name: `settings.${name}` },
    }));
}

/**
 * A saved secret is only ever sent where it was saved for: when the test changes where it (or the
 * token it buys) would travel (the server, port or username, as the reference rules for the
 * password; the method, token endpoint or tenant for an OAuth2 secret), or turns certificate checks
 * off, the secret must be typed (not the mask, not left out). Otherwise a caller could point a saved
 * secret at a server of their own.
 */
function guardSavedSecrets(
  effective: ResolvedEmailSettings,
  tested: ResolvedEmailSettings,
  typed: Partial<Record<SettingName, unknown>>,
) {
  const use = credentialInUse(tested.values);
  if (!use) return;
  const { secret, destination } = use;
  const saved = effective.values[secret];
  const given = typed[secret];
  if (saved === "" || (given !== undefined && given !== PASSWORD_MASK)) return;
  const what = secret === "SMTPPassword" ? "the SMTP password" : secret;
  if (destination.some((name) => tested.values[name] !== effective.values[name])) {
    throw new ConnectionTestRequestError(
      400,
      secret === "SMTPPassword"
        ? "The SMTP server, port, or username has changed. Please re-enter the SMTP password to test connection."
        : `The SMTP server, port, username, SMTPAuthMethod, OAuth2TokenEndpoint or OAuth2TenantId has changed. Please re-enter ${what} to test connection.`,
    );
  }
  // Credentials never travel unencrypted, but without certificate checks they may reach an impostor.
  if (
    tested.values.SkipServerCertificateVerification &&
    !effective.values.SkipServerCertificateVerification
  ) {
    throw new ConnectionTestRequestError(
      400,
      `SkipServerCertificateVerification has been turned on. Please re-enter ${what} to test connection.`,
    );
  }
}

function resolveForTest(
  effective: ResolvedEmailSettings,
  overrides: ConnectionTestRequest["settings"],
  allowed: Pick<TestConnectionOptions, "allowedHosts" | "allowedPorts">,
): ResolvedEmailSettings {
  const given: Partial<Record<SettingName, unknown>> = { ...(overrides ?? {}) };
  if (given.SMTPServer === "") throw new ConnectionTestRequestError(400, "SMTP Server is required");
  const typed = { ...given };
  // The mask means the saved secret.
  for (const name of SECRET_SETTINGS) if (given[name] === PASSWORD_MASK) delete given[name];
  try {
    const tested = resolveEmailSettings([effectiveLayer(effective), requestLayer(given)]);
    guardDestinations(effective.values, tested.values, allowed);
    guardSavedSecrets(effective, tested, typed);
    return tested;
  } catch (error) {
    if (error instanceof InvalidSettingsError) throw new ConnectionTestRequestError(400, error.message);
    throw error;
  }
}

/** Host names the test may connect to: exact names, or `*.example.com` for any name under it. */
export type AllowedHosts = readonly string[];

export function isHostAllowed(host: string, allowed: AllowedHosts): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return allowed.some((entry) => {
    const rule = entry.toLowerCase();
    return rule.startsWith("*.") ? name.endsWith(rule.slice(1)) : name === rule;
  });
}

/** The ports an SMTP server a request names may be tested on, unless the deployment lists its own. */
export const SMTP_PORTS: readonly number[] = [25, 465, 587, 2525];
/** A token endpoint's port a request may name, whatever the deployment lists: HTTPS's. */
export const HTTPS_PORT = 443;

/** Ports the test may connect to on a host the request names; `*`: any. */
export type AllowedPorts = readonly number[] | "*";

export interface TestConnectionOptions {
  /** The effective settings (defaults, SSM, environment). */
  effective: ResolvedEmailSettings;
  /** How mail leaves: SMTP's options, the container's tokens, SES. */
  smtp?: TransportOptions;
  /**
   * The SMTP servers this deployment lets the test reach; a request for another is refused (403).
   * Default: any, as the reference server allows.
   */
  allowedHosts?: AllowedHosts;
  /**
   * The ports this deployment lets a request name (403 for another): for the SMTP server instead of
   * SMTP_PORTS, for a token endpoint beside 443. The settings' own (SMTPPort, their token endpoint's
   * port) are always allowed. Default: SMTP_PORTS, and 443.
   */
  allowedPorts?: AllowedPorts;
  /** What is left of the invocation, in ms: every stage is bounded to fit in it. Default: no bound. */
  timeLeftMs?: number;
}

/** The settings' token endpoint; undefined when they sign in with none, or name none usable. */
function tokenEndpointUrl(s: EmailSettings): URL | undefined {
  if (s.Transport !== "smtp" || !s.EnableSMTPAuth || !isOAuth2Method(s.SMTPAuthMethod)) return undefined;
  try {
    return new URL(tokenEndpointOf(s, s.SMTPAuthMethod));
  } catch {
    return undefined; // no endpoint: the config stage says which setting is missing
  }
}

const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === "https:" ? HTTPS_PORT : 80);
const CONTEXT_HINT = "an operator allows others with the testEndpointAllowedPorts context";

/**
 * Where the test would connect that the deployment's own settings do not: an SMTP server and port,
 * a token endpoint (named, in a typed key, or a tenant's). Only hosts and ports the deployment
 * allows; checked before the saved secrets' guard, so a caller is not asked for a password to be
 * refused after.
 */
function guardDestinations(
  effective: EmailSettings,
  tested: EmailSettings,
  { allowedHosts, allowedPorts }: Pick<TestConnectionOptions, "allowedHosts" | "allowedPorts">,
) {
  const anyPort = allowedPorts === "*";
  const listed = anyPort ? [] : (allowedPorts ?? SMTP_PORTS);
  if (tested.Transport === "smtp") {
    const server = tested.SMTPServer;
    if (allowedHosts && !isHostAllowed(server, allowedHosts)) {
      throw new ConnectionTestRequestError(
        403,
        `SMTP server ${JSON.stringify(server)} is not one this deployment may test (allowed: ${allowedHosts.join(", ")}); an operator adds it with the testEndpointAllowedHosts context`,
      );
    }
    const port = tested.SMTPPort;
    if (!anyPort && port !== effective.SMTPPort && !listed.includes(port)) {
      throw new ConnectionTestRequestError(
        403,
        `SMTPPort ${port} is not a port this deployment may test: ${listed.join(", ")} or the settings' own (${effective.SMTPPort}); ${CONTEXT_HINT}`,
      );
    }
  }
  const endpoint = tokenEndpointUrl(tested);
  if (!endpoint) return;
  const own = tokenEndpointUrl(effective);
  if (
    allowedHosts &&
    endpoint.hostname !== own?.hostname &&
    !isHostAllowed(endpoint.hostname, allowedHosts)
  ) {
    throw new ConnectionTestRequestError(
      403,
      `token endpoint host ${JSON.stringify(endpoint.hostname)} is not one this deployment may test (allowed: ${allowedHosts.join(", ")}); an operator adds it with the testEndpointAllowedHosts context`,
    );
  }
  const port = portOf(endpoint);
  const ports = allowedPorts ? [HTTPS_PORT, ...listed.filter((p) => p !== HTTPS_PORT)] : [HTTPS_PORT];
  if (!anyPort && !(own && portOf(own) === port) && !ports.includes(port)) {
    throw new ConnectionTestRequestError(
      403,
      `The token endpoint's port ${port} (${endpoint.host}) is not a port this deployment may test: ${ports.join(", ")} or the settings' own token endpoint's; ${CONTEXT_HINT}`,
    );
  }
}

/** A check is two bounded operations (open the session, then the envelope or the message), each with a little slack. */
const OPERATIONS = 2;
const SLACK_MS = 2_000;

export async function testConnection(
  request: ConnectionTestRequest,
  { effective, smtp = {}, allowedHosts, allowedPorts, timeLeftMs }: TestConnectionOptions,
): Promise<ConnectionTestResponse> {
  const resolved = resolveForTest(effective, request.settings, { allowedHosts, allowedPorts });
  // A request may set SMTPServerTimeout up to an hour; the endpoint answers within 29 s.
  const notes: string[] = [];
  let tested = resolved.values;
  if (timeLeftMs !== undefined) {
    const fits = Math.max(1, Math.floor((timeLeftMs - SLACK_MS) / OPERATIONS / 1000));
    if (tested.SMTPServerTimeout > fits) {
      notes.push(
        `SMTPServerTimeout ${tested.SMTPServerTimeout} s is longer than this test may wait: each stage was bounded at ${fits} s, the time the test had left`,
      );
      tested = { ...tested, SMTPServerTimeout: fits };
    }
  }
  const send = request.to ? { send: { to: request.to, ...TEST_MESSAGE } } : {};
  const result =
    tested.Transport === "ses"
      ? await runSesCheck(tested, { api: smtp.ses ?? noSes, ...send })
      : await runConnectionCheck(tested, { ...smtp, ...send });
  return { ...result, warnings: [...notes, ...result.warnings], settings: redactSettings(resolved) };
}
