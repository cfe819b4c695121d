/**
 * One load scenario, end to end: the provider (a rate- and connection-limited SMTP server), the
 * queues and settings in moto, the notifications enqueued at once, the poller driving the
 * deployed bundle in separate container processes with the environment the stack derives from
 * the provider's limits, the scenario's faults (an outage, a refused sender, a DynamoDB that
 * stops answering, container kills, poison records: faults.ts), then everything read back: what
 * the provider accepted and refused, the dead-letter queue, every receive of every message.
 *
 * Every wait is bounded: the scenario gives up at its give-up time (default 3 × its ideal time,
 * the outage included, at most 10 minutes past the ideal, at least 3 minutes) and reports what
 * it has.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { type Container, createContainer, type LogTally } from "./containers.ts";
import {
  createKiller,
  type Kill,
  type Killer,
  notificationBody,
  type StoreFault,
  type StoreStats,
  scheduleFaults,
  startStoreFault,
  type TimedFaults,
} from "./faults.ts";
import { type Poller, type PollerHistory, startPoller } from "./poller.ts";
import { type AcceptedMessage, type Provider, type Refusal, startProvider } from "./provider.ts";
import {
  containerEnv,
  type RunOptions,
  type ScenarioSettings,
  type ScenarioSpec,
  scenarioSettings,
} from "./spec.ts";
import {
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

export { idealSeconds, type RunOptions, type ScenarioSettings, type ScenarioSpec } from "./spec.ts";

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
  /** When the provider refused the sender (epoch ms). */
  senderRefused?: { from: number; to: number };
  /** The containers' DynamoDB (a proxy to moto's): silent from (epoch ms), and what it saw. */
  store: StoreStats & { silentFrom?: number };
  /** Containers SIGKILLed mid-invocation, and kills drawn whose moment came after the invocation ended. */
  kills: Kill[];
  killsMissed: number;
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
  let store: StoreFault | undefined;
  let faults: TimedFaults | undefined;
  try {
    const queues = await createNotificationQueues(sqs, tag, settings.visibilityTimeoutSeconds);
    // As the stack: every deployment has the fleet's send-schedule table.
    const scheduleTable = await createSendScheduleTable(options.motoEndpoint, tag);
    // The containers reach DynamoDB through a proxy: it measures, and falls silent when the scenario says.
    store = await startStoreFault(options.motoEndpoint, spec.silentStore?.afterSeconds === 0);
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
    const bodies = Array.from({ length: spec.count }, (_, n) => notificationBody(spec, n, recipientOf(n)));
    log(`  enqueueing ${spec.count} notifications…`);
    const ids = await enqueue(sqs, queues.queueUrl, bodies);

    const env = containerEnv(settings, {
      motoEndpoint: options.motoEndpoint,
      settingsRoot: root,
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      scheduleTable,
      dynamoEndpoint: store.url,
    });
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
    const killer: Killer | undefined = spec.kills
      ? createKiller({
          chance: spec.kills.chance,
          crash: (slot) => (containers[slot] as Container).crash(),
          typicalMs: (settings.batchSize / (settings.perContainerRate ?? 10)) * 1000,
        })
      : undefined;

    const startedAt = Date.now();
    poller = startPoller({
      sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region: REGION,
      batchSize: settings.batchSize,
      batchingWindowSeconds: settings.batchingWindowSeconds,
      maxConcurrency: settings.concurrency,
      ...(settings.scaling ? { scaling: settings.scaling, longPollSeconds: 0 } : {}),
      invoke: (slot, event) => {
        const run = () => (containers[slot] as Container).invoke(event);
        return killer ? killer.around(slot, event, run) : run();
      },
    });

    // The timed faults (the outage, the sender's refusal, the store's silence), each undone at the end.
    faults = scheduleFaults(spec, { provider, store, startedAt, log });

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
        const kinds = new Map<string, number>();
        for (const r of provider.refusals) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
        const refused = [...kinds].map(([k, v]) => `${v} ${k}`).join(", ") || "none";
        log(
          `  ${Math.round((Date.now() - startedAt) / 1000)} s: ${delivered} delivered, queue ${depth.visible} visible / ${depth.inFlight} in flight, ${poller.history.invocations.length} invocations done, refusals: ${refused}${killer ? `, ${killer.kills.length} kills` : ""}`,
        );
      }
    }
    const endedAt = Date.now();
    faults.cancel();

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
    const silentFrom = store?.silentSince();
    return {
      spec,
      settings,
      ids,
      recipientOf,
      startedAt,
      endedAt,
      gaveUp,
      ...(faults.outage ? { outage: faults.outage } : {}),
      ...(faults.senderRefused ? { senderRefused: faults.senderRefused } : {}),
      store: { ...store.stats(), ...(silentFrom ? { silentFrom } : {}) },
      kills: killer ? [...killer.kills] : [],
      killsMissed: killer?.missed() ?? 0,
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
    faults?.cancel();
    poller?.halt();
    await Promise.all(containers.map((c) => c.stop()));
    await provider.close();
    await store?.close();
    sqs.destroy();
  }
}
