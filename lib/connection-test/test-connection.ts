/**
 * The connection test: the caller's settings applied over the effective ones for this test only
 * (nothing is saved), the reference console's password-mask rule, then the staged check and,
 * with `to`, one test message.
 */
import { z } from "zod";
import {
  InvalidSettingsError,
  PASSWORD_MASK,
  type RedactedEmailSettings,
  type ResolvedEmailSettings,
  redactSettings,
  resolveEmailSettings,
  SETTING_NAMES,
  type SettingName,
  type SettingsLayer,
} from "../settings/index.ts";
import { type ConnectionCheckResult, runConnectionCheck, type SmtpSessionOptions } from "../smtp/index.ts";

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

/** The request body: any EmailSettings fields by their reference names, and an optional recipient. */
export const ConnectionTestRequestSchema = z.strictObject({
  settings: z
    .strictObject(
      Object.fromEntries(SETTING_NAMES.map((name) => [name, settingValue.optional()])) as Record<
        SettingName,
        z.ZodOptional<typeof settingValue>
      >,
    )
    .optional(),
  to: z.email({ error: "must be an email address" }).optional(),
});
export type ConnectionTestRequest = z.infer<typeof ConnectionTestRequestSchema>;

export const TEST_MESSAGE = {
  subject: "Mattermost - Testing Email Settings",
  text: "It appears your Mattermost email is setup correctly!",
} as const;

export interface ConnectionTestResponse extends ConnectionCheckResult {
  settings: RedactedEmailSettings;
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

function resolveForTest(
  effective: ResolvedEmailSettings,
  overrides: ConnectionTestRequest["settings"],
): ResolvedEmailSettings {
  const given = { ...(overrides ?? {}) };
  if (given.SMTPServer === "") throw new ConnectionTestRequestError(400, "SMTP Server is required");
  try {
    if (given.SMTPPassword === PASSWORD_MASK) {
      delete given.SMTPPassword;
      const tested = resolveEmailSettings([effectiveLayer(effective), requestLayer(given)]).values;
      const changed = (["SMTPServer", "SMTPPort", "SMTPUsername"] as const).some(
        (name) => tested[name] !== effective.values[name],
      );
      if (changed) {
        throw new ConnectionTestRequestError(
          400,
          "The SMTP server, port, or username has changed. Please re-enter the SMTP password to test connection.",
        );
      }
    }
    return resolveEmailSettings([effectiveLayer(effective), requestLayer(given)]);
  } catch (error) {
    if (error instanceof InvalidSettingsError) throw new ConnectionTestRequestError(400, error.message);
    throw error;
  }
}

export interface TestConnectionOptions {
  /** The effective settings (defaults, SSM, environment). */
  effective: ResolvedEmailSettings;
  smtp?: SmtpSessionOptions;
}

export async function testConnection(
  request: ConnectionTestRequest,
  { effective, smtp = {} }: TestConnectionOptions,
): Promise<ConnectionTestResponse> {
  const resolved = resolveForTest(effective, request.settings);
  const result = await runConnectionCheck(resolved.values, {
    ...smtp,
    ...(request.to ? { send: { to: request.to, ...TEST_MESSAGE } } : {}),
  });
  return { ...result, settings: redactSettings(resolved) };
}
