/**
 * What a scenario's run means: delivered, dead-lettered, lost, duplicates (each explained from
 * its receive history), the peak rate against the provider's limit, the time against the ideal,
 * and the goals.
 *
 * Definitions (docs/load-test.md repeats them):
 * - delivered: unique Message-IDs the provider accepted that belong to the run's notifications
 *   (the function's Message-ID is `<SQS message id@domain>`, the same on every delivery).
 * - dead-lettered: notifications found on the dead-letter queue (moved by the redrive policy, or
 *   put there by the function with its reason), matched by their recipient.
 * - lost: neither; `stillQueued` says how many of those the queue still held at the end.
 * - a message counts for the rate when the provider's limiter let its MAIL FROM through (the
 *   moment the provider charges it); "offered" counts every MAIL FROM, refused ones included.
 * - peak over w: the most counted in any half-open window [t, t + w), over every t; divided by w.
 * - time: from the poller's start to the last acceptance once every notification is delivered or
 *   dead-lettered, else to the give-up.
 *
 * The goals each scenario is judged by are goals.ts's; what the kills cost, kills.ts's; how each
 * duplicate came about, duplicates.ts's.
 */
import { type DuplicateReport, explainDuplicates } from "./duplicates.ts";
import { goalsFor } from "./goals.ts";
import { type KillMetrics, killMetrics } from "./kills.ts";
import { idealSeconds, type ScenarioRun } from "./scenario.ts";

export type { DuplicateReport } from "./duplicates.ts";

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean;
}

export interface ScenarioMetrics {
  notifications: number;
  delivered: number;
  deadLettered: number;
  /** Of the dead-lettered: put there by the function (with a reason) rather than by the redrive. */
  deadLetteredByFunction: number;
  /** Each dead-lettered notification's index and the function's attributes (FailureCode, FailureReason…). */
  deadLetters: Array<{ notification: number; attributes: Record<string, string> }>;
  lost: number;
  stillQueued: number;
  duplicates: DuplicateReport[];
  /** Accepted messages whose Message-ID is none of the run's. */
  strangers: number;
  limit: number;
  peak1s: number;
  peak10s: number;
  offeredPeak1s: number;
  offeredPeak10s: number;
  throttled: number;
  connectionRefusals: number;
  outageRefusals: number;
  /** MAIL FROM refused as the scenario's settings refusal (553 …). */
  senderRefusals: number;
  /** What the container kills cost. */
  kills: KillMetrics;
  /** Start of the poller to the last acceptance (all delivered) or to the give-up. */
  totalSeconds: number;
  idealSeconds: number;
  /** Deadline hit before the queue drained. */
  gaveUp: boolean;
  invocations: number;
  failedInvocations: number;
  receives: number;
  maxReceiveCount: number;
  goals: Goal[];
}

/** The most timestamps in any window [t, t + windowMs), t ranging over the timestamps. */
export function peakInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i] as number;
    if (j < i) j = i;
    while (j < sorted.length && (sorted[j] as number) < start + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function computeMetrics(run: ScenarioRun): ScenarioMetrics {
  const { spec, startedAt } = run;
  const byId = new Map(run.ids.map((id, n) => [id, n]));
  const byRecipient = new Map(run.ids.map((_, n) => [run.recipientOf(n), n]));
  const sqsIdOf = (messageId: string) => /^<([^@>]+)@/.exec(messageId)?.[1] ?? "";

  // Deliveries, by SQS message id.
  const acceptances = new Map<string, number[]>();
  /** The same acceptances, at the server's 250 to the data. */
  const acceptedAt = new Map<string, number[]>();
  let strangers = 0;
  for (const m of run.accepted) {
    const id = sqsIdOf(m.messageId);
    if (!byId.has(id)) {
      strangers++;
      continue;
    }
    acceptances.set(id, [...(acceptances.get(id) ?? []), m.mailFromAt]);
    acceptedAt.set(id, [...(acceptedAt.get(id) ?? []), m.acceptedAt]);
  }
  const delivered = new Set(acceptances.keys());

  // Dead letters, by notification.
  const dead = new Set<number>();
  const deadLetters: ScenarioMetrics["deadLetters"] = [];
  let byFunction = 0;
  for (const letter of run.deadLetters) {
    let n: number | undefined = byId.get(letter.messageId);
    if (n === undefined) {
      try {
        n = byRecipient.get(String((JSON.parse(letter.body) as { to?: unknown }).to));
      } catch {
        n = undefined;
      }
    }
    if (n === undefined || dead.has(n)) continue;
    dead.add(n);
    deadLetters.push({ notification: n, attributes: letter.attributes });
    if (Object.keys(letter.attributes).length > 0) byFunction++;
  }
  const accounted = new Set<number>([...dead]);
  for (const id of delivered) accounted.add(byId.get(id) as number);
  const lost = spec.count - accounted.size;

  const duplicates = explainDuplicates(run, acceptances, byId);

  const ours = run.accepted.filter((m) => byId.has(sqsIdOf(m.messageId)));
  const limit = spec.ratePerSecond;
  const peak1s = peakInWindow(
    ours.map((m) => m.mailFromAt),
    1000,
  );
  const peak10s =
    peakInWindow(
      ours.map((m) => m.mailFromAt),
      10_000,
    ) / 10;
  const offeredPeak1s = peakInWindow(run.mailFromAttempts, 1000);
  const offeredPeak10s = peakInWindow(run.mailFromAttempts, 10_000) / 10;
  const count = (kind: string) => run.refusals.filter((r) => r.kind === kind).length;
  const throttled = count("throttle");

  // Every notification delivered or dead-lettered: the time is the last acceptance's.
  const allDone = accounted.size === spec.count;
  const lastAccepted = Math.max(startedAt, ...ours.map((m) => m.acceptedAt));
  const totalSeconds = ((allDone ? lastAccepted : run.endedAt) - startedAt) / 1000;
  const ideal = idealSeconds(spec);
  const receives = [...run.history.receives.values()].reduce((sum, list) => sum + list.length, 0);
  const maxReceiveCount = Math.max(
    0,
    ...[...run.history.receives.values()].flatMap((list) => list.map((r) => r.receiveCount)),
  );
  const stillQueued = run.finalDepth.visible + run.finalDepth.inFlight + run.finalDepth.delayed;

  const metrics: Omit<ScenarioMetrics, "goals"> = {
    notifications: spec.count,
    delivered: delivered.size,
    deadLettered: dead.size,
    deadLetteredByFunction: byFunction,
    deadLetters,
    lost,
    stillQueued,
    duplicates,
    strangers,
    limit,
    peak1s,
    peak10s,
    offeredPeak1s,
    offeredPeak10s,
    throttled,
    connectionRefusals: count("connections"),
    outageRefusals: count("outage"),
    senderRefusals: count("sender"),
    kills: killMetrics(run.kills, acceptedAt),
    totalSeconds,
    idealSeconds: ideal,
    gaveUp: run.gaveUp,
    invocations: run.history.invocations.length,
    failedInvocations: run.history.invocations.filter((i) => i.outcome !== "ok" && i.outcome !== "stopped")
      .length,
    receives,
    maxReceiveCount,
  };
  return { ...metrics, goals: goalsFor(run, metrics) };
}
