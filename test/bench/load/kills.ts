/**
 * What the container kills cost (faults.ts createKiller): for each kill, the duplicates it made
 * and how long its batch's unsent records took to be delivered.
 *
 * - A kill's duplicates: records of the killed batch accepted by the provider during the killed
 *   invocation (from its start to a second after the kill, for a final dot already on the wire)
 *   and accepted again later. The product's bound (lib/notifications/in-flight.ts): the messages
 *   being sent (one a session: the pool) and those accepted in the delete's last round trip.
 * - A kill's time to delivery: from the kill to the first acceptance of the last record of its
 *   batch that the provider had not accepted before the kill (records the function had set aside,
 *   dead-lettered, or still held come back within a minute's hold, or their back-off). Undefined
 *   when the batch had nothing left; "never" when one of them was not delivered.
 */
import type { Kill } from "./faults.ts";

export interface KillReport {
  kill: Kill;
  duplicates: number;
  /** Records of its batch not accepted before the kill. */
  unsent: number;
  /** Kill → delivery of the last of them, ms; undefined when none were left; Infinity when one never was. */
  toDeliveryMs: number | undefined;
}

export interface KillMetrics {
  kills: number;
  reports: KillReport[];
  /** Duplicates attributed to a kill, all kills together. */
  duplicates: number;
  maxDuplicatesPerKill: number;
  meanDuplicatesPerKill: number;
  /**
   * The longest kill → delivery of its batch's unsent records, seconds (Infinity: some never), of
   * the kills in an invocation the function ran.
   */
  maxToDeliverySeconds: number | undefined;
  /** The same, of the kills in a container's init (before the function had the batch). */
  maxToDeliveryDuringInitSeconds: number | undefined;
}

/** In-flight grace after a kill: a final dot already sent may still be accepted. */
const WIRE_MS = 1000;

export function killMetrics(
  kills: readonly Kill[],
  acceptances: ReadonlyMap<string, readonly number[]>,
): KillMetrics {
  const reports = kills.map((kill): KillReport => {
    let duplicates = 0;
    let unsent = 0;
    let last: number | undefined;
    for (const id of kill.ids) {
      const times = [...(acceptances.get(id) ?? [])].sort((a, b) => a - b);
      const during = times.filter((t) => t >= kill.invocationStartedAt && t <= kill.at + WIRE_MS);
      if (during.length > 0 && times.some((t) => t > (during.at(-1) as number))) duplicates++;
      if (times.some((t) => t <= kill.at)) continue;
      unsent++;
      const delivered = times.find((t) => t > kill.at);
      last = Math.max(last ?? 0, delivered === undefined ? Number.POSITIVE_INFINITY : delivered - kill.at);
    }
    return { kill, duplicates, unsent, toDeliveryMs: last };
  });
  const duplicates = reports.reduce((sum, r) => sum + r.duplicates, 0);
  const longest = (init: boolean) => {
    const times = reports.flatMap((r) =>
      r.toDeliveryMs === undefined || (r.kill.duringInit === true) !== init ? [] : [r.toDeliveryMs],
    );
    return times.length ? Math.max(...times) / 1000 : undefined;
  };
  return {
    kills: kills.length,
    reports,
    duplicates,
    maxDuplicatesPerKill: Math.max(0, ...reports.map((r) => r.duplicates)),
    meanDuplicatesPerKill: kills.length ? duplicates / kills.length : 0,
    maxToDeliverySeconds: longest(false),
    maxToDeliveryDuringInitSeconds: longest(true),
  };
}
