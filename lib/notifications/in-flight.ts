/**
 * A batch's records on the queue while the batch is being delivered, so a container that dies
 * mid-batch (out of memory, a crashed runtime, a deploy) costs at most the messages in flight:
 *
 * - **Acknowledged as soon as accepted.** A record the server accepted is deleted at once, not
 *   when the batch ends, so a crash later in the batch cannot send it again. One delete call is in
 *   flight at a time and the records accepted meanwhile go in the next, so a burst costs a call
 *   per round trip, not one per message, and a crash repeats at most the messages being sent (one
 *   a session) and those accepted in the last round trip.
 * - **Held a minute at a time.** When the batch starts, each record to send is made invisible for
 *   `holdSeconds` only, and the hold is renewed every `renewEveryMs` while the record is still
 *   being worked on. A container that dies stops renewing: its unsent records come back within
 *   `holdSeconds`, instead of after the queue's visibility timeout (the function's timeout: 130 s
 *   as deployed), which stays the backstop for a batch the function never held.
 *
 * Every call's time comes from the invocation's time left (`callTimeoutMs`); a call that fails
 * changes nothing that matters: the batch response still acknowledges what was sent, and the
 * backstop still brings back what was not.
 */
import type { Logger } from "../logger.ts";
import type { QueueControl, Received } from "./queue-control.ts";

export const VISIBILITY_HOLD = {
  /** How long a record of a running batch stays invisible without a renewal. */
  holdSeconds: 60,
  /** How often the holds of records still being worked on are renewed: three times a hold. */
  renewEveryMs: 20_000,
} as const;

export interface InFlightOptions {
  queue: QueueControl;
  /** How long the next queue call may take (the invocation's time left, less a margin); ≤ 0: no call. */
  callTimeoutMs: () => number;
  logger: Logger;
  /** Default VISIBILITY_HOLD. */
  hold?: { holdSeconds: number; renewEveryMs: number };
}

export interface InFlight {
  /** The server accepted it: delete it now (in the next delete call). */
  accepted(record: Received): void;
  /** Its fate is decided otherwise (dead-lettered, or to come back after a back-off): hold it no longer. */
  settled(id: string): void;
  /** Stops renewing, and waits for the deletes still to make: the ids whose delete failed. */
  finish(): Promise<{ unacknowledged: string[] }>;
}

/** Holds `records` now, and keeps holding those not yet accepted or settled until finish(). */
export function trackInFlight(records: readonly Received[], options: InFlightOptions): InFlight {
  const { queue, callTimeoutMs, logger } = options;
  const { holdSeconds, renewEveryMs } = options.hold ?? VISIBILITY_HOLD;
  const open = new Map(records.map((r) => [r.id, r]));
  const unacknowledged: string[] = [];
  let pending: Received[] = [];
  let deleting: Promise<void> | undefined;
  let holding: Promise<void> | undefined;

  const hold = () => {
    const items = [...open.values()];
    const timeoutMs = callTimeoutMs();
    if (items.length === 0 || timeoutMs <= 0 || holding) return;
    holding = queue
      .hold(items, holdSeconds, { timeoutMs })
      .then(({ failed }) => {
        if (failed.length > 0) logger.debug("Some holds were not renewed", { records: failed });
      })
      .catch((error: unknown) => {
        logger.warn(
          "Could not hold the batch's records: after a crash they would come back after the queue's visibility timeout",
          { error },
        );
      })
      .finally(() => {
        holding = undefined;
      });
  };

  const deleteNext = () => {
    if (deleting || pending.length === 0) return;
    const items = pending;
    pending = [];
    const timeoutMs = callTimeoutMs();
    deleting = (
      timeoutMs <= 0
        ? Promise.resolve({ failed: items.map((i) => i.id) })
        : queue.acknowledge(items, { timeoutMs }).catch(() => ({ failed: items.map((i) => i.id) }))
    )
      .then(({ failed }) => {
        unacknowledged.push(...failed);
      })
      .finally(() => {
        deleting = undefined;
        deleteNext();
      });
  };

  hold();
  const renewal = setInterval(hold, renewEveryMs);

  return {
    accepted(record) {
      open.delete(record.id);
      pending.push(record);
      deleteNext();
    },
    settled(id) {
      open.delete(id);
    },
    async finish() {
      clearInterval(renewal);
      // Bounded: each call is bounded by its timeout, and no record is added after the batch ends.
      while (holding || deleting) await (holding ?? deleting);
      if (unacknowledged.length > 0) {
        logger.debug("Some sent records were not deleted at once: the batch response acknowledges them", {
          records: unacknowledged,
        });
      }
      return { unacknowledged };
    },
  };
}
