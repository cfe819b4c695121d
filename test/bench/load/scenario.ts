/**
 * One load scenario, end to end: the provider (a rate- and connection-limited SMTP server), the
 * queues and settings in moto, the notifications enqueued at once, the poller driving the
 * deployed bundle in separate container processes with the environment the stack derives from
 * the provider's limits, an optional outage, then everything read back: what the provider
 * accepted and refused, the dead-letter queue, every receive of every message.
 *
 * Every wait is bounded: the scenario gives up at its give-up time (default 3 × its ideal time,
 * the outage included, at most 10 minutes past the ideal, at least a minute) and reports what it
 * has.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { deploymentConfig } from "../../../infra/config.ts";
import { deriveSendLimits, formatRate } from "../../../infra/provider-limits.ts";
import { queueVisibilitySeconds, sendNotificationTimeoutSeconds } from "../../../infra/sizing.ts";
import { RETRY_POLICY } from "../../../lib/notifications/backoff.ts";
import { type Container, createContainer, type LogTally } from "./containers.ts";
import { type Poller, type PollerHistory, startPoller } from "./poller.ts";
import { type AcceptedMessage, type Provider, type Refusal, startProvider } from "./provider.ts";
import {
  CREDENTIALS,
  createNotificationQueues,
  createSendScheduleTable,
  type DeadLetterEntry,
  enqueue,
  type QueueDepth,
  queueDepth,
  REGION,
  readDeadLetters,
  seedSettings,
  sqsClient,
} from "./world.ts";

export interface ScenarioSpec {
  id: string;
  title: string;
  /** Notifications enqueued at once before the poller starts. */
  count: number;
  /** The provider's (the fleet's) send rate, messages a second. */
  ratePerSecond: number;
  /** The provider's connection limit. */
  maxConnections: number;
  /** The provider goes down `afterSeconds` after the poller starts, for `seconds`. */
  outage?: { afterSeconds: number; seconds: number };
}

export interface RunOptions {
  motoEndpoint: string;
  /** The bundle's index.mjs (world.ts buildBundle). */
  bundle: string;
  /** Where the containers' logs go. */
  workDir: string;
  /** Default: min(3 × ideal, ideal + 600 s), at least 60 s; the ideal includes any outage. */
  giveUpSeconds?: number;
  /** SMTPServerTimeout in the settings, and for the stack's sizing. Default: the settings' default. */
  smtpTimeoutSeconds?: number;
  /** Default: the stack's batchSize. */
  batchSize?: number;
  /** Default: the stack's maxBatchingWindowSeconds. */
  batchingWindowSeconds?: number;
  /** Invocations at once when deriveSendLimits gives no maxConcurrency. Default 2 (the least it may give). */
  concurrencyFallback?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Seconds between progress lines. Default 10. */
  progressEverySeconds?: number;
}

export interface ScenarioSettings {
  /** Invocations at once (the event source's maximumConcurrency). */
  concurrency: number;
  concurrencyFrom: "deriveSendLimits" | "fallback";
  poolSize: number;
  /** SEND_RATE_PER_SECOND; undefined when deriveSendLimits gave none (the variable is then unset). */
  perContainerRate: number | undefined;
  batchSize: number;
  batchingWindowSeconds: number;
  smtpTimeoutSeconds: number;
  functionTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  receiveLimit: number;
  providerBurst: number;
  giveUpSeconds: number;
}

export interface ScenarioRun {
  spec: ScenarioSpec;
  settings: ScenarioSettings;
  /** SQS message id of notification n, at index n. */
  ids: string[];
  /** The recipient of notification n: `n<index>@load.example`. */
  recipientOf: (n: number) => string;
  /** Epoch ms: the poller's start (the notifications were all queued before). */
  startedAt: number;
  /** Epoch ms: when the queue was found empty, or the give-up time. */
  endedAt: number;
  gaveUp: boolean;
  outage?: { from: number; to: number };
  accepted: AcceptedMessage[];
  refusals: Refusal[];
  mailFromAttempts: number[];
  provider: { connections: number; peakOpenSessions: number; droppedAtOutage: number };
  deadLetters: DeadLetterEntry[];
  history: PollerHistory;
  /** The queue when the scenario ended. */
  finalDepth: QueueDepth;
  coldStarts: number;
  logTally: LogTally;
  logDir: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What deriveSendLimits makes of the provider's limits, as the stack will deploy it. */
export function scenarioSettings(
  spec: ScenarioSpec,
  options: Omit<RunOptions, "bundle" | "workDir" | "motoEndpoint">,
) {
  const stack = deploymentConfig(() => undefined);
  const derived = deriveSendLimits(
    { maxSendRate: spec.ratePerSecond, maxConnections: spec.maxConnections },
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
  const settings: ScenarioSettings = {
    concurrency: derived.maxConcurrency ?? options.concurrencyFallback ?? 2,
    concurrencyFrom: derived.maxConcurrency !== undefined ? "deriveSendLimits" : "fallback",
    poolSize: derived.poolSize,
    perContainerRate: derived.perContainerRate,
    batchSize,
    batchingWindowSeconds: options.batchingWindowSeconds ?? stack.maxBatchingWindowSeconds,
    smtpTimeoutSeconds,
    functionTimeoutSeconds,
    visibilityTimeoutSeconds: queueVisibilitySeconds(functionTimeoutSeconds),
    receiveLimit: RETRY_POLICY.receiveLimit,
    // createSmtpLimits's default bucket: a second's worth, at least 1.
    providerBurst: Math.max(1, spec.ratePerSecond),
    // 3 × the ideal, but never more than 10 minutes past it, and at least a minute (cold starts,
    // batching windows, a first back-off).
    giveUpSeconds: options.giveUpSeconds ?? Math.ceil(Math.max(60, Math.min(3 * ideal, ideal + 600))),
  };
  return settings;
}

/** The time the provider needs at its limit: count ÷ rate, plus any outage. */
export function idealSeconds(spec: ScenarioSpec): number {
  return spec.count / spec.ratePerSecond + (spec.outage?.seconds ?? 0);
}

export async function runScenario(spec: ScenarioSpec, options: RunOptions): Promise<ScenarioRun> {
  const log = options.log ?? (() => {});
  const settings = scenarioSettings(spec, options);
  const tag = `load-${spec.id}-${process.pid}-${Date.now()}`;
  const logDir = join(options.workDir, tag);
  mkdirSync(logDir, { recursive: true });

  const provider: Provider = await startProvider({
    ratePerSecond: spec.ratePerSecond,
    maxConnections: spec.maxConnections,
  });
  const sqs: SQSClient = sqsClient(options.motoEndpoint);
  const containers: Container[] = [];
  const logTally: LogTally = new Map();
  let poller: Poller | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const queues = await createNotificationQueues(sqs, tag, settings.visibilityTimeoutSeconds);
    // As the stack: a rate limit (every scenario has one) gives the fleet its send schedule.
    const scheduleTable = await createSendScheduleTable(options.motoEndpoint, tag);
    const root = `/${tag}`;
    await seedSettings(options.motoEndpoint, root, {
      SMTPServer: "127.0.0.1",
      SMTPPort: String(provider.port),
      SMTPServerTimeout: String(settings.smtpTimeoutSeconds),
      FeedbackEmail: "noreply@load.example",
      FeedbackName: "Load test",
      SendEmailNotifications: "true",
    });

    const recipientOf = (n: number) => `n${n}@load.example`;
    const bodies = Array.from({ length: spec.count }, (_, n) =>
      JSON.stringify({
        to: recipientOf(n),
        subject: `Load ${spec.id} #${n}`,
        text: `Notification ${n} of ${spec.count} (scenario ${spec.id}).`,
      }),
    );
    log(`  enqueueing ${spec.count} notifications…`);
    const ids = await enqueue(sqs, queues.queueUrl, bodies);

    const env: Record<string, string> = {
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ENDPOINT_URL: options.motoEndpoint,
      AWS_EC2_METADATA_DISABLED: "true",
      SETTINGS_PATH: root,
      NOTIFICATION_QUEUE_URL: queues.queueUrl,
      DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      NOTIFICATION_POOL_SIZE: String(settings.poolSize),
      ...(settings.perContainerRate !== undefined
        ? { SEND_RATE_PER_SECOND: formatRate(settings.perContainerRate) }
        : {}),
      SEND_SCHEDULE_TABLE: scheduleTable,
      FLEET_SEND_RATE_PER_SECOND: formatRate(spec.ratePerSecond),
      LOG_LEVEL: "warn",
      TZ: "UTC",
    };
    for (let slot = 0; slot < settings.concurrency; slot++) {
      containers.push(
        createContainer({
          bundle: options.bundle,
          env,
          name: `container-${slot}`,
          logFile: join(logDir, `container-${slot}.log`),
          timeoutMs: settings.functionTimeoutSeconds * 1000,
          tally: logTally,
        }),
      );
    }

    const startedAt = Date.now();
    poller = startPoller({
      sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region: REGION,
      batchSize: settings.batchSize,
      batchingWindowSeconds: settings.batchingWindowSeconds,
      maxConcurrency: settings.concurrency,
      invoke: (slot, event) => (containers[slot] as Container).invoke(event),
    });

    let outage: { from: number; to: number } | undefined;
    if (spec.outage) {
      const { afterSeconds, seconds } = spec.outage;
      timers.push(
        setTimeout(() => {
          outage = { from: Date.now(), to: Date.now() + seconds * 1000 };
          provider.setDown(true);
          log(`  outage begins (${seconds} s): the provider answers 421 at the greeting`);
        }, afterSeconds * 1000),
        setTimeout(
          () => {
            provider.setDown(false);
            if (outage) outage.to = Date.now();
            log("  outage ends");
          },
          (afterSeconds + seconds) * 1000,
        ),
      );
    }

    // Wait until the queue is empty and no slot holds records, or give up.
    const giveUpAt = startedAt + settings.giveUpSeconds * 1000;
    const progressMs = (options.progressEverySeconds ?? 10) * 1000;
    let nextProgress = startedAt + progressMs;
    let depth: QueueDepth = { visible: spec.count, inFlight: 0, delayed: 0 };
    let gaveUp = false;
    for (;;) {
      await sleep(1000);
      try {
        depth = await queueDepth(sqs, queues.queueUrl);
      } catch {
        // moto busy: ask again next second
      }
      const empty = depth.visible + depth.inFlight + depth.delayed === 0;
      if (empty && poller.held() === 0) break;
      if (Date.now() >= giveUpAt) {
        gaveUp = true;
        break;
      }
      if (Date.now() >= nextProgress) {
        nextProgress += progressMs;
        const delivered = new Set(provider.accepted.map((m) => m.messageId)).size;
        const throttles = provider.refusals.filter((r) => r.kind === "throttle").length;
        const connRefusals = provider.refusals.length - throttles;
        log(
          `  ${Math.round((Date.now() - startedAt) / 1000)} s: ${delivered} delivered, queue ${depth.visible} visible / ${depth.inFlight} in flight, ${poller.history.invocations.length} invocations done, ${throttles}×454, ${connRefusals}×421`,
        );
      }
    }
    const endedAt = Date.now();
    for (const t of timers) clearTimeout(t);
    provider.setDown(false);

    poller.halt();
    await Promise.race([poller.idle(), sleep(15_000)]);
    await Promise.all(containers.map((c) => c.stop()));
    await poller.idle();

    const deadLetters = await readDeadLetters(sqs, queues.deadLetterQueueUrl);
    let finalDepth = depth;
    try {
      finalDepth = await queueDepth(sqs, queues.queueUrl);
    } catch {
      // keep the last one seen
    }
    return {
      spec,
      settings,
      ids,
      recipientOf,
      startedAt,
      endedAt,
      gaveUp,
      ...(outage ? { outage } : {}),
      accepted: [...provider.accepted],
      refusals: [...provider.refusals],
      mailFromAttempts: [...provider.mailFromAttempts],
      provider: {
        connections: provider.connections(),
        peakOpenSessions: provider.openSessions().peak,
        droppedAtOutage: provider.droppedAtOutage(),
      },
      deadLetters,
      history: poller.history,
      finalDepth,
      coldStarts: containers.reduce((sum, c) => sum + c.coldStarts, 0),
      logTally,
      logDir,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    poller?.halt();
    await Promise.all(containers.map((c) => c.stop()));
    await provider.close();
    sqs.destroy();
  }
}
