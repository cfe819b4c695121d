/**
 * What a load scenario is (its provider, its notifications, the faults it injects) and what the
 * stack would deploy for it: deriveSendLimits's concurrency, pool and share of the rate, the
 * function's and the queue's timeouts, the containers' environment.
 */
import { deploymentConfig } from "../../../infra/config.ts";
import { deriveSendLimits, formatRate } from "../../../infra/provider-limits.ts";
import { queueVisibilitySeconds, sendNotificationTimeoutSeconds } from "../../../infra/sizing.ts";
import { RETRY_POLICY } from "../../../lib/notifications/backoff.ts";
import { CREDENTIALS, REGION } from "./world.ts";

export interface ScenarioSpec {
  id: string;
  title: string;
  /** What it does, for docs/load-test.md's list of scenarios (Markdown). */
  description?: string;
  /** Notifications enqueued at once before the poller starts. */
  count: number;
  /** The provider's (the fleet's) send rate, messages a second. */
  ratePerSecond: number;
  /** The provider's connection limit. */
  maxConnections: number;
  /**
   * Whether the stack is told the provider's limits (default true). False: `provider` unlimited,
   * deriveSendLimits({}): no maxConcurrency (Lambda's own scaling), no SEND_RATE_PER_SECOND, no
   * FLEET_SEND_RATE_PER_SECOND; the send-schedule table is still there.
   */
  limitsConfigured?: boolean;
  /** The provider goes down `afterSeconds` after the poller starts, for `seconds`. */
  outage?: { afterSeconds: number; seconds: number };
  /** A chance per invocation that its container is SIGKILLed at a random moment of it (faults.ts). */
  kills?: { chance: number };
  /** The containers' DynamoDB accepts connections and never answers, from `afterSeconds` on (0: throughout). */
  silentStore?: { afterSeconds: number };
  /** The provider refuses every MAIL FROM with `reply` for the first `seconds`, then accepts. */
  senderRefused?: { seconds: number; reply: string };
  /** Notifications (by index) whose `html` would blow up html-to-text (faults.ts poisonHtml). */
  poison?: number[];
  /** When to give up, seconds from the start (RunOptions's giveUpSeconds overrides it). Default: see RunOptions. */
  giveUpSeconds?: number;
  /** The time goal: total ≤ factor × ideal + plusSeconds; false: time is reported, not judged. */
  timeGoal?: { factor: number; plusSeconds?: number } | false;
}

export interface RunOptions {
  motoEndpoint: string;
  /** The bundle's index.mjs (world.ts buildBundle). */
  bundle: string;
  /** Where the containers' logs go. */
  workDir: string;
  /** Default: min(3 × ideal, ideal + 600 s), at least 180 s; the ideal includes any outage. */
  giveUpSeconds?: number;
  /** SMTPServerTimeout in the settings, and for the stack's sizing. Default: the settings' default. */
  smtpTimeoutSeconds?: number;
  /** Default: the stack's batchSize. */
  batchSize?: number;
  /** Default: the stack's maxBatchingWindowSeconds. */
  batchingWindowSeconds?: number;
  /**
   * The most invocations at once when deriveSendLimits gives no maxConcurrency (Lambda's own
   * scaling). Default: one per batch the queue holds at the start, at most 1000.
   */
  concurrencyFallback?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Seconds between progress lines. Default 10. */
  progressEverySeconds?: number;
}

/** Lambda's SQS scaling without maximumConcurrency: 5 batches at once, then up to 300 more a minute. */
export const LAMBDA_SQS_SCALING = { initial: 5, perMinute: 300 } as const;

export interface ScenarioSettings {
  /** Invocations at once (the event source's maximumConcurrency, or where Lambda's scaling stops). */
  concurrency: number;
  concurrencyFrom: "deriveSendLimits" | "lambda-scaling";
  /** Lambda's ramp when there is no maximumConcurrency. */
  scaling?: { initial: number; perMinute: number };
  poolSize: number;
  /** SEND_RATE_PER_SECOND; undefined when deriveSendLimits gave none (the variable is then unset). */
  perContainerRate: number | undefined;
  /** FLEET_SEND_RATE_PER_SECOND; undefined when the stack knows no rate. */
  fleetRate: number | undefined;
  /** FLEET_MAX_CONNECTIONS; undefined when the stack knows no connection limit (the fleet then learns it). */
  fleetConnections: number | undefined;
  batchSize: number;
  batchingWindowSeconds: number;
  smtpTimeoutSeconds: number;
  functionTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  receiveLimit: number;
  providerBurst: number;
  giveUpSeconds: number;
}

/** What deriveSendLimits makes of the provider's limits, as the stack will deploy it. */
export function scenarioSettings(
  spec: ScenarioSpec,
  options: Omit<RunOptions, "bundle" | "workDir" | "motoEndpoint">,
): ScenarioSettings {
  const stack = deploymentConfig(() => undefined);
  const configured = spec.limitsConfigured !== false;
  const derived = deriveSendLimits(
    configured ? { maxSendRate: spec.ratePerSecond, maxConnections: spec.maxConnections } : {},
    stack.notificationPoolSize,
  );
  const batchSize = options.batchSize ?? stack.batchSize;
  const smtpTimeoutSeconds = options.smtpTimeoutSeconds ?? stack.smtpTimeoutSeconds;
  // As the stack sizes it: the derived pool and the container's share of the rate.
  const functionTimeoutSeconds = sendNotificationTimeoutSeconds(
    smtpTimeoutSeconds,
    batchSize,
    derived.poolSize,
    derived.perContainerRate,
  );
  const ideal = idealSeconds(spec);
  return {
    // Without maxConcurrency, Lambda scales up to a batch per invocation: never more than the queue's batches.
    concurrency:
      derived.maxConcurrency ??
      options.concurrencyFallback ??
      Math.min(1000, Math.max(2, Math.ceil(spec.count / batchSize))),
    concurrencyFrom: derived.maxConcurrency !== undefined ? "deriveSendLimits" : "lambda-scaling",
    ...(derived.maxConcurrency === undefined ? { scaling: { ...LAMBDA_SQS_SCALING } } : {}),
    poolSize: derived.poolSize,
    perContainerRate: derived.perContainerRate,
    fleetRate: configured ? spec.ratePerSecond : undefined,
    fleetConnections: configured ? spec.maxConnections : undefined,
    batchSize,
    batchingWindowSeconds: options.batchingWindowSeconds ?? stack.maxBatchingWindowSeconds,
    smtpTimeoutSeconds,
    functionTimeoutSeconds,
    visibilityTimeoutSeconds: queueVisibilitySeconds(functionTimeoutSeconds),
    receiveLimit: RETRY_POLICY.receiveLimit,
    // createSmtpLimits's default bucket: a second's worth, at least 1.
    providerBurst: Math.max(1, spec.ratePerSecond),
    // 3 × the ideal, but never more than 10 minutes past it, and at least 3 minutes (cold starts,
    // batching windows, back-offs of up to 75 s that a short ideal would not leave room for).
    giveUpSeconds:
      options.giveUpSeconds ??
      spec.giveUpSeconds ??
      Math.ceil(Math.max(180, Math.min(3 * ideal, ideal + 600))),
  };
}

/** The time the provider needs at its limit: count ÷ rate, plus any outage or refusal window. */
export function idealSeconds(spec: ScenarioSpec): number {
  return spec.count / spec.ratePerSecond + (spec.outage?.seconds ?? 0) + (spec.senderRefused?.seconds ?? 0);
}

/** The function's environment as the stack sets it, and nothing else. */
export function containerEnv(
  settings: ScenarioSettings,
  where: {
    motoEndpoint: string;
    settingsRoot: string;
    queueUrl: string;
    deadLetterQueueUrl: string;
    scheduleTable: string;
    /** AWS_ENDPOINT_URL_DYNAMODB (a store fault), when not moto's. */
    dynamoEndpoint?: string;
  },
): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ENDPOINT_URL: where.motoEndpoint,
    ...(where.dynamoEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: where.dynamoEndpoint } : {}),
    AWS_EC2_METADATA_DISABLED: "true",
    SETTINGS_PATH: where.settingsRoot,
    NOTIFICATION_QUEUE_URL: where.queueUrl,
    DEAD_LETTER_QUEUE_URL: where.deadLetterQueueUrl,
    NOTIFICATION_POOL_SIZE: String(settings.poolSize),
    ...(settings.perContainerRate !== undefined
      ? { SEND_RATE_PER_SECOND: formatRate(settings.perContainerRate) }
      : {}),
    // Every deployment has the send-schedule table; the fleet's rate and connection limit only
    // when the stack knows them.
    SEND_SCHEDULE_TABLE: where.scheduleTable,
    ...(settings.fleetRate !== undefined
      ? { FLEET_SEND_RATE_PER_SECOND: formatRate(settings.fleetRate) }
      : {}),
    ...(settings.fleetConnections !== undefined
      ? { FLEET_MAX_CONNECTIONS: String(settings.fleetConnections) }
      : {}),
    LOG_LEVEL: "warn",
    TZ: "UTC",
  };
}
