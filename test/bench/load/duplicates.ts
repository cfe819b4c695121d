/**
 * Each duplicate delivery (a Message-ID accepted twice), explained from the message's receives:
 * which receive it was sent during, and what became of that receive (reported failed, its
 * invocation failed as a whole, e.g. a killed container, its delete failed, its visibility ran
 * out, or the queue handed it to two receives at once). One the receives cannot explain is
 * marked unexplained.
 */
import type { ScenarioRun } from "./scenario.ts";

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

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** `acceptances`: SQS message id → when each acceptance's MAIL FROM went through (epoch ms). */
export function explainDuplicates(
  run: ScenarioRun,
  acceptances: ReadonlyMap<string, readonly number[]>,
  byId: ReadonlyMap<string, number>,
): DuplicateReport[] {
  const { settings, startedAt } = run;
  const at = (t: number) => round((t - startedAt) / 1000);
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
          } else if (during.outcome === "deleted") {
            reasons.push(
              `sent during ${which}, deleted, yet received again: the queue brought back a deleted message (not an at-least-once window; moto's concurrent deletes did, before moto-fast.ts's ATOMIC_SQS_DELETE)`,
            );
            explained = false;
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

  return duplicates;
}
