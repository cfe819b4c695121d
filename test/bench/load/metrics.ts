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
 */
import { idealSeconds, type ScenarioRun } from "./scenario.ts";

export interface DuplicateReport {
  sqsMessageId: string;
  notification: number;
  /** When each acceptance's MAIL FROM went through (seconds from the start). */
  acceptedAtSeconds: number[];
  /** Every receive: seconds from the start, receive count, slot, outcome. */
  receives: string[];
  explanation: string;
  explained: boolean;
}

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

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function computeMetrics(run: ScenarioRun): ScenarioMetrics {
  const { spec, settings, startedAt } = run;
  const at = (t: number) => round((t - startedAt) / 1000);
  const byId = new Map(run.ids.map((id, n) => [id, n]));
  const byRecipient = new Map(run.ids.map((_, n) => [run.recipientOf(n), n]));
  const sqsIdOf = (messageId: string) => /^<([^@>]+)@/.exec(messageId)?.[1] ?? "";

  // Deliveries, by SQS message id.
  const acceptances = new Map<string, number[]>();
  let strangers = 0;
  for (const m of run.accepted) {
    const id = sqsIdOf(m.messageId);
    if (!byId.has(id)) {
      strangers++;
      continue;
    }
    acceptances.set(id, [...(acceptances.get(id) ?? []), m.mailFromAt]);
  }
  const delivered = new Set(acceptances.keys());

  // Dead letters, by notification.
  const dead = new Set<number>();
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
    if (Object.keys(letter.attributes).length > 0) byFunction++;
  }
  const accounted = new Set<number>([...dead]);
  for (const id of delivered) accounted.add(byId.get(id) as number);
  const lost = spec.count - accounted.size;

  // Duplicates, each explained from its receives.
  const duplicates: DuplicateReport[] = [];
  for (const [id, times] of acceptances) {
    if (times.length < 2) continue;
    const receives = run.history.receives.get(id) ?? [];
    const sorted = [...times].sort((a, b) => a - b);
    const reasons: string[] = [];
    let explained = true;
    for (const t of sorted.slice(0, -1)) {
      const during = receives.filter((r) => r.at <= t && t <= (r.endedAt ?? Number.POSITIVE_INFINITY)).at(-1);
      if (!during) {
        reasons.push(`accepted at ${at(t)} s outside any receive the poller saw`);
        explained = false;
        continue;
      }
      // Another receive while this one was still held: two invocations had the message at once.
      const open = (r: (typeof receives)[number]) => r.endedAt ?? Number.POSITIVE_INFINITY;
      const overlapping = receives.find((r) => r !== during && r.at < open(during) && during.at < open(r));
      const visibilityMs = settings.visibilityTimeoutSeconds * 1000;
      const which = `receive ${during.receiveCount} (${at(during.at)} s, slot ${during.slot})`;
      switch (during.outcome) {
        case "reported-failed":
          reasons.push(
            `sent during ${which}, yet named in batchItemFailures: SQS delivered it again (the send's success did not reach the function's report: an at-least-once window)`,
          );
          break;
        case "invocation-failed":
          reasons.push(
            `sent during ${which}, whose invocation then failed as a whole: the batch came back (an at-least-once window)`,
          );
          break;
        case "delete-failed":
          reasons.push(`sent during ${which}, but its delete failed: SQS delivered it again`);
          break;
        default:
          if (overlapping && Math.abs(overlapping.at - during.at) >= visibilityMs) {
            reasons.push(
              `sent during ${which}, but its visibility ran out while that invocation still ran: receive ${overlapping.receiveCount} at ${at(overlapping.at)} s (an at-least-once window)`,
            );
          } else if (overlapping) {
            reasons.push(
              `the queue handed it to two receives at once, ${which} and receive ${overlapping.receiveCount} (${at(overlapping.at)} s, slot ${overlapping.slot}), both invoked and sent: SQS's at-least-once delivery (a standard queue may deliver a message twice; moto does under concurrent ReceiveMessage calls)`,
            );
          } else {
            reasons.push(
              `sent during ${which} (${during.outcome ?? "no outcome"}), then sent again: unexplained`,
            );
            explained = false;
          }
      }
    }
    duplicates.push({
      sqsMessageId: id,
      notification: byId.get(id) as number,
      acceptedAtSeconds: sorted.map(at),
      receives: receives.map(
        (r) =>
          `#${r.receiveCount} at ${at(r.at)} s, slot ${r.slot}: ${r.outcome ?? "?"}${r.endedAt ? ` (ended ${at(r.endedAt)} s)` : ""}`,
      ),
      explanation: reasons.join("; "),
      explained,
    });
  }

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

  const allDelivered = delivered.size === spec.count;
  const lastAccepted = Math.max(startedAt, ...ours.map((m) => m.acceptedAt));
  const totalSeconds = ((allDelivered ? lastAccepted : run.endedAt) - startedAt) / 1000;
  const ideal = idealSeconds(spec);
  const receives = [...run.history.receives.values()].reduce((sum, list) => sum + list.length, 0);
  const maxReceiveCount = Math.max(
    0,
    ...[...run.history.receives.values()].flatMap((list) => list.map((r) => r.receiveCount)),
  );
  const stillQueued = run.finalDepth.visible + run.finalDepth.inFlight + run.finalDepth.delayed;

  // The provider's bucket passes at most burst + rate × w in any window w: over 10 s, the limit
  // plus a tenth of the burst. Within that and never refused for rate: never above the limit.
  const rateBound10s = limit + settings.providerBurst / 10;
  const goals: Goal[] = [
    {
      goal: "0 lost",
      measured: `${lost} lost${lost ? ` (${Math.min(lost, stillQueued)} still queued)` : ""}`,
      pass: lost === 0,
    },
    { goal: "0 in the dead-letter queue", measured: `${dead.size}`, pass: dead.size === 0 },
    {
      goal: `peak rate never above the limit (${limit}/s): no 454, 10 s peak ≤ ${round(rateBound10s, 2)}/s`,
      measured: `10 s: ${round(peak10s, 2)}/s accepted, ${round(offeredPeak10s, 2)}/s offered; 1 s: ${peak1s} accepted, ${offeredPeak1s} offered; ${throttled}×454`,
      pass: throttled === 0 && offeredPeak10s <= rateBound10s,
    },
    {
      goal: `total time ≤ 1.25 × ideal (${round(ideal)} s)`,
      measured: `${allDelivered ? "" : "≥ "}${round(totalSeconds)} s (${round(totalSeconds / ideal, 2)}×)`,
      pass: allDelivered && totalSeconds <= 1.25 * ideal,
    },
    {
      goal: "duplicates 0, or each explained by an at-least-once window",
      measured: `${duplicates.length}${duplicates.length ? ` (${duplicates.filter((d) => d.explained).length} explained)` : ""}`,
      pass: duplicates.every((d) => d.explained),
    },
  ];

  return {
    notifications: spec.count,
    delivered: delivered.size,
    deadLettered: dead.size,
    deadLetteredByFunction: byFunction,
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
    totalSeconds,
    idealSeconds: ideal,
    gaveUp: run.gaveUp,
    invocations: run.history.invocations.length,
    failedInvocations: run.history.invocations.filter((i) => i.outcome !== "ok" && i.outcome !== "stopped")
      .length,
    receives,
    maxReceiveCount,
    goals,
  };
}
