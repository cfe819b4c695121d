/**
 * The deployment's configuration: `cdk.json` context (or `-c key=value`), validated at synth
 * time with the same EmailSettings schema the functions use, so a bad value fails `cdk synth`
 * with the key and the rule instead of failing in Lambda. One file (a little over 250 lines): the
 * schema is the list of context keys, each with its rule and default documented beside it.
 */
import { z } from "zod";
import { minimumSurvivalSeconds, RETRY_POLICY } from "../lib/notifications/backoff.ts";
import {
  DEFAULT_SETTINGS_PATH,
  InvalidSettingsError,
  REFERENCE_SETTING_NAMES,
  resolveEmailSettings,
  SECRET_SETTINGS,
  type SettingName,
  TRANSPORT_SETTING_NAMES,
  type Transport,
} from "../lib/settings/index.ts";
import { describeIssues } from "../lib/zod.ts";
import { closestKey, isOwnKeyShape, jsonKind } from "./context-keys.ts";
import { DEFAULT_STACK_NAME } from "./outputs.ts";
import {
  DEFAULT_PROVIDER,
  isValidMaxConnections,
  isValidSendRate,
  LIMIT_RULES,
  PROVIDER_NAMES,
  type ProviderName,
} from "./provider-limits.ts";

const PORT_RULE = "must be a port from 1 to 65535, or *";
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Non-secret settings of one section only, by name: a secret is a SecureString CloudFormation
 * cannot create (it would be stored in plain text), and a setting of the other section is named
 * where it belongs.
 */
const settingsOf = (
  context: string,
  names: readonly SettingName[],
  other: string,
  otherNames: readonly SettingName[],
) =>
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).superRefine((values, ctx) => {
    for (const name of Object.keys(values)) {
      if (SECRET_SETTINGS.has(name as SettingName)) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must not be in context (it would be stored in plain text): create it as a SecureString with \`mm-email settings set ${name}\` (docs/cli.md)`,
        });
      } else if ((otherNames as string[]).includes(name)) {
        ctx.addIssue({ code: "custom", message: `${name} is not in ${context}: put it in ${other}` });
      } else if (!(names as string[]).includes(name)) {
        ctx.addIssue({
          code: "custom",
          message: `unknown setting ${name}; known: ${names.filter((n) => !SECRET_SETTINGS.has(n)).join(", ")}`,
        });
      }
    }
  });
const settingsContext = settingsOf(
  "emailSettings",
  REFERENCE_SETTING_NAMES,
  "emailTransportSettings",
  TRANSPORT_SETTING_NAMES,
);
const transportContext = settingsOf(
  "emailTransportSettings",
  TRANSPORT_SETTING_NAMES,
  "emailSettings",
  REFERENCE_SETTING_NAMES,
);

/** A record must be retried for an hour of throttling before it can reach the dead-letter queue. */
export const MIN_THROTTLE_SURVIVAL_SECONDS = 3600;

/** The smallest receive limit whose back-off outlasts MIN_THROTTLE_SURVIVAL_SECONDS (82 with the defaults). */
export function smallestSurvivingReceiveLimit(): number {
  let n = 1;
  while (minimumSurvivalSeconds(n) < MIN_THROTTLE_SURVIVAL_SECONDS) n++;
  return n;
}

const receiveLimit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .superRefine((n, ctx) => {
    const survival = minimumSurvivalSeconds(n);
    if (survival < MIN_THROTTLE_SURVIVAL_SECONDS) {
      ctx.addIssue({
        code: "custom",
        message: `${n} lets a throttled record reach the dead-letter queue after ${survival} s of back-off; a record must survive an hour (${MIN_THROTTLE_SURVIVAL_SECONDS} s) of throttling before it can be dead-lettered: use at least ${smallestSurvivingReceiveLimit()} (default ${RETRY_POLICY.receiveLimit}, docs/delivery.md)`,
      });
    }
  });

export const DeploymentConfigSchema = z.object({
  /** The CloudFormation stack's name (mm-email finds it by the same key, cli/stack.ts). */
  stackName: z
    .string()
    .regex(
      /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
      "must be a CloudFormation stack name: a letter, then letters, digits and hyphens (128 at most)",
    )
    .default(DEFAULT_STACK_NAME),
  /** SSM root of the settings. */
  settingsPath: z
    .string()
    .regex(/^\/[A-Za-z0-9_.\-/]*[^/]$/, "must be an SSM path like /mattermost")
    .default(DEFAULT_SETTINGS_PATH),
  /** Non-secret EmailSettings stored as SSM String parameters; unset means the reference default. */
  emailSettings: settingsContext.default({}),
  /**
   * The product's own settings (how mail leaves, how SMTP signs in), non-secret ones stored as
   * String parameters under `<root>/EmailTransportSettings/`. Given at all (`{}` too), the
   * functions read that section from SSM and may decrypt its secrets; absent, the stack is
   * exactly what it was before the section existed.
   */
  emailTransportSettings: transportContext.optional(),
  /**
   * Transport ses: the SES identity the functions may send as (a domain, or an address), over
   * emailSettings.FeedbackEmail's domain.
   */
  sesIdentity: z
    .string()
    .regex(
      /^([^@\s]+@)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/,
      "must be a domain or an email address SES verified",
    )
    .optional(),
  /** Comma-separated admin addresses for security bulletins, stored as <root>/SecurityAlerts/Recipients. */
  securityAlertRecipients: z.string().optional(),
  securityFeedUrl: z.url({ protocol: /^https?$/ }).default("https://securityupdatecheck.mattermost.com"),
  /** The chat server's version; bulletins apply to it. Without it the alert check fails, loudly. */
  appVersion: z.string().default(""),
  /** EventBridge Scheduler expression for the alert check. */
  alertSchedule: z.string().default("rate(1 day)"),
  /**
   * Receives before a notification moves to the dead-letter queue: the back-off's receive limit
   * (lib/notifications/backoff.ts), at least what keeps a throttled record an hour.
   */
  maxReceiveCount: receiveLimit.default(RETRY_POLICY.receiveLimit),
  /** SQS batch size: one pooled SMTP connection serves a batch. */
  batchSize: z.coerce.number().int().min(1).max(100).default(10),
  maxBatchingWindowSeconds: seconds(0, 300).default(5),
  /** SMTP connections one batch may use at once: an upper bound, the provider's limits may lower it. */
  notificationPoolSize: z.coerce.number().int().min(1).max(10).default(1),
  /** The SMTP provider's limits by name (infra/provider-limits.ts); `unlimited` keeps Lambda's scaling. */
  provider: z
    .enum(PROVIDER_NAMES as [ProviderName, ...ProviderName[]], {
      error: `must be one of ${PROVIDER_NAMES.join(", ")}`,
    })
    .default(DEFAULT_PROVIDER),
  /** Messages a second the whole fleet may send, over the preset's. */
  maxSendRate: z.coerce
    .number({ error: LIMIT_RULES.maxSendRate })
    .refine(isValidSendRate, LIMIT_RULES.maxSendRate)
    .optional(),
  /** SMTP connections the whole fleet may hold at once, over the preset's. */
  maxConnections: z.coerce
    .number({ error: LIMIT_RULES.maxConnections })
    .refine(isValidMaxConnections, LIMIT_RULES.maxConnections)
    .optional(),
  logRetentionDays: z.coerce.number().int().positive().default(30),
  /** Requests per second and burst for POST /email/test. */
  testEndpointRateLimit: z.coerce.number().positive().default(2),
  testEndpointBurstLimit: z.coerce.number().int().positive().default(5),
  /**
   * Optional: the SMTP servers the connection test may reach (exact names, or `*.example.com`).
   * Unset: any, as the reference server allows; a security-conscious account lists its relays.
   */
  testEndpointAllowedHosts: z
    .array(z.string().regex(/^(\*\.)?[A-Za-z0-9.-]+$/, "must be a host name, or *. and a domain"))
    .min(1)
    .optional(),
  /**
   * Optional: the ports the connection test may reach on a host a request names, instead of SMTP's
   * 25, 465, 587 and 2525 (a token endpoint's 443 stays allowed; the settings' own always are).
   * `["*"]`: any port, as the reference server allows. Unset: those defaults.
   */
  testEndpointAllowedPorts: z
    .array(
      z.union([z.literal("*"), z.coerce.number().int(PORT_RULE).min(1, PORT_RULE).max(65_535, PORT_RULE)], {
        error: PORT_RULE,
      }),
    )
    .min(1)
    .refine((ports) => !ports.includes("*") || ports.length === 1, 'must be ["*"] alone, or ports')
    .optional(),
  /** Optional: an EventBridge rule on this bus (default bus when omitted) targets the queue. */
  eventBridge: z
    .object({
      busName: z.string().optional(),
      pattern: z.record(z.string(), z.unknown()),
    })
    .optional(),
  /** Optional: run the functions in a VPC (SMTP servers reachable only there). */
  vpc: z
    .object({
      vpcId: z.string().regex(/^vpc-[0-9a-f]+$/),
      subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(1),
      securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).min(1),
      availabilityZones: z.array(z.string()).optional(),
    })
    .optional(),
  /** Optional: alarms notify this SNS topic, or a new one mailing this address. */
  alarmTopicArn: z.string().startsWith("arn:").optional(),
  alarmEmail: z.email().optional(),
  /** Notifications are late when the queue's oldest message is older than this: the LateNotificationsAlarm. */
  lateAfterMinutes: z.coerce.number().int().min(1).max(720).default(10),
  /** Optional: the customer managed KMS key of the password parameter (default: the aws/ssm key). */
  passwordKmsKeyArn: z.string().startsWith("arn:").optional(),
});

export type DeploymentConfig = z.output<typeof DeploymentConfigSchema> & {
  /** SMTPServerTimeout as the settings resolve, for sizing function timeouts. */
  smtpTimeoutSeconds: number;
  /** How mail leaves, as the context's settings resolve. */
  transport: Transport;
  /** Transport ses: the identity the functions' roles may send as. */
  sesIdentity?: string;
};

export const CONTEXT_KEYS = Object.keys(DeploymentConfigSchema.shape) as Array<
  keyof typeof DeploymentConfigSchema.shape
>;

export class DeploymentConfigError extends Error {
  override readonly name = "DeploymentConfigError";
}

/**
 * Reads the context keys (JSON strings from `-c` are parsed) and validates them. `givenKeys`, every
 * key the context holds, lets a misspelt key fail instead of being ignored.
 */
export function deploymentConfig(
  tryGetContext: (key: string) => unknown,
  givenKeys: readonly string[] = [],
): DeploymentConfig {
  const unknown = givenKeys.filter((k) => isOwnKeyShape(k) && !(CONTEXT_KEYS as string[]).includes(k));
  if (unknown.length > 0) {
    throw new DeploymentConfigError(
      `Invalid context: ${unknown
        .map((k) => {
          const meant = closestKey(k, CONTEXT_KEYS);
          return `unknown key ${k}${meant ? ` (did you mean ${meant}?)` : ""}`;
        })
        .join("; ")}. The keys: ${CONTEXT_KEYS.join(", ")} (docs/deploy.md#context)`,
    );
  }
  const raw: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    let value = tryGetContext(key);
    const kind = jsonKind(DeploymentConfigSchema.shape[key]);
    if (typeof value === "string" && kind) {
      const text = value;
      try {
        value = JSON.parse(text);
      } catch {
        throw new DeploymentConfigError(
          `Invalid context: ${key} must be a JSON ${kind}, quoted for the shell (-c '${key}=${kind === "object" ? "{…}" : "[…]"}'); got ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`,
        );
      }
    }
    if (value !== undefined) raw[key] = value;
  }
  const parsed = DeploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DeploymentConfigError(
      `Invalid context: ${describeIssues(parsed.error, { root: "(root)" }).join("; ")}`,
    );
  }
  const layer = (key: "emailSettings" | "emailTransportSettings") =>
    Object.entries(parsed.data[key] ?? {}).map(([name, value]) => ({
      setting: name as SettingName,
      value,
      source: { layer: "context" as const, name: `${key}.${name}` },
    }));
  let values: ReturnType<typeof resolveEmailSettings>["values"];
  try {
    values = resolveEmailSettings([[...layer("emailSettings"), ...layer("emailTransportSettings")]]).values;
  } catch (error) {
    if (error instanceof InvalidSettingsError) throw new DeploymentConfigError(error.message);
    throw error;
  }
  const sesIdentity =
    values.Transport === "ses"
      ? (parsed.data.sesIdentity ??
        (parsed.data.emailSettings.FeedbackEmail === undefined
          ? undefined
          : values.FeedbackEmail.split("@")[1]))
      : undefined;
  if (values.Transport === "ses" && !sesIdentity) {
    throw new DeploymentConfigError(
      "Invalid context: emailTransportSettings.Transport is ses but neither sesIdentity nor emailSettings.FeedbackEmail says what the functions may send as: add -c sesIdentity=example.com (docs/amazon-ses.md)",
    );
  }
  return {
    ...parsed.data,
    smtpTimeoutSeconds: values.SMTPServerTimeout,
    transport: values.Transport,
    ...(sesIdentity ? { sesIdentity } : {}),
  };
}
