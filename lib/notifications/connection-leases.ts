/**
 * The fleet's connections, for a deployment whose provider's connection limit nobody configured
 * (provider `unlimited`: no FLEET_MAX_CONNECTIONS): Lambda then runs as many containers as the
 * queue asks for (60 for a burst of 600), and a provider that allows 4 connections refuses the
 * rest with `421 4.7.0 too many connections`. Without this, each refused batch backed off and came
 * back, again and again: 600 notifications against 20 a second and 4 connections took more than
 * 20 × the ideal time (issue 19).
 *
 * Every session holds a lease in the send schedule's table while it is open, marked connected
 * once the server has greeted it. Until the provider first refuses a connection for its limit,
 * leases are only counted; at that refusal the fleet learns the limit: the other leases whose
 * connection was open (greeted, not yet released), the connections the provider was counting.
 * Refusals within `LEASING.episodeMs` of each other are one learning, which keeps the highest
 * count (a lease a moment from being marked is missed, never one too many counted). From then on
 * a container connects only when fewer leases are held than the limit, and otherwise waits,
 * asking again every `LEASING.pollMs` (± half), while a send may still start. Once the limit is
 * known, no idle session is kept between batches: a container frozen by Lambda runs no timer, so
 * its kept session's lease would lapse while the provider still counts the connection. After
 * `LEASING.probeAfterMs` without a refusal one connection more is allowed (one, not one more every
 * so often: a fleet idle for an hour would otherwise come back with 120 more); when it opens, the
 * limit is raised by one, so a limit learned low, or raised by the provider, is found again.
 *
 * A lease lasts `LEASING.leaseMs` and is renewed while its session lives, so a killed container's
 * leases free themselves; a session whose lease lapsed (a freeze, a store that stopped answering
 * its renewals) or was taken back is not used again. The store may never stop a send: a call that
 * fails lets the connection open unleased, and the store is left alone for `LEASING.coolOffMs`
 * (STORE_COOL_OFF_MS), as the send schedule is (fleet-schedule.ts).
 *
 * One file of about 260 lines: the lease's life (grant, mark, renew, loss, release) and the
 * fleet's learning read and write the same state.
 */
import { randomUUID } from "node:crypto";
import { type ConnectionGate, type ConnectionLease, NotStartedError } from "../smtp/index.ts";
import { withTimeout } from "../timeouts.ts";
import { STORE_CALL_TIMEOUT_MS, STORE_COOL_OFF_MS } from "./fleet-schedule.ts";

/** The leases as the store holds them (lib/aws-dynamodb: an item of the send schedule's table). */
export interface LeaseState {
  /**
   * Each lease by id: when it was granted and when it lapses, epoch ms (lapsed ones included),
   * and whether its connection is open (the server greeted it).
   */
  holders: Record<string, { grantedMs: number; expiresMs: number; connected: boolean }>;
  /** The connection limit learned from the provider, and when. */
  limit?: { connections: number; atMs: number };
  /** Changes with every grant, so two grants cannot both take the last connection. */
  version: number;
}

export interface ConnectionLeaseStore {
  /** The leases and the learned limit, as they are now (a consistent read). */
  read(): Promise<LeaseState>;
  /** Adds the lease and removes `lapsed`, if the version is still `version`: false if another grant came first. */
  grant(request: {
    id: string;
    grantedMs: number;
    expiresMs: number;
    version: number;
    lapsed: readonly string[];
  }): Promise<boolean>;
  /** Marks a lease's connection open: false when the lease is no longer held. */
  connected(id: string): Promise<boolean>;
  /** Extends a lease: false when it is no longer held. */
  renew(id: string, expiresMs: number): Promise<boolean>;
  release(id: string): Promise<void>;
  /**
   * Records the limit, unless one learned since `episodeStartMs` is at least as high (refusals in
   * one episode are one learning): false then.
   */
  learnLimit(limit: { connections: number; atMs: number }, episodeStartMs: number): Promise<boolean>;
}

/** The log line that says what was learned (`mm-email status` may read the newest one). */
export const CONNECTION_LIMIT_MESSAGE =
  "Learned the provider's connection limit from its refusal: set maxConnections in context to keep it (docs/delivery.md)";

export const LEASING = {
  /** A lease lapses this long after its last renewal. */
  leaseMs: 30_000,
  /** A held lease is renewed this often. */
  renewEveryMs: 10_000,
  /** A container waiting for a connection asks again after this (± half, at random). */
  pollMs: 400,
  /** Refusals this close together are one learning. */
  episodeMs: 2_000,
  /** After this long without a refusal, one connection more than the limit is allowed. */
  probeAfterMs: 30_000,
  /** After a grant lost to another container's, the read is made again after up to this (at random). */
  lostGrantPauseMs: 50,
  /** The longest wait: a bound on the loop; the send's own deadline ends it sooner. */
  maxPolls: 10_000,
} as const;

export interface ConnectionLeasesOptions {
  store: ConnectionLeaseStore;
  /** The fleet learned (or re-learned, or raised) the provider's connection limit here. */
  onLearned?: (connections: number, from: "refusal" | "probe") => void;
  /** A store call failed: the connection opens unleased. */
  onStoreError?: (error: unknown) => void;
  /** The longest one store call may take. Default STORE_CALL_TIMEOUT_MS. */
  storeTimeoutMs?: number;
  /** After a failed call, how long the store is left alone. Default STORE_COOL_OFF_MS. */
  storeCoolOffMs?: number;
  /** Wall clock (shared by every container), timer and jitter; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What a connection opened without the store holds: nothing to lose, mark or release. */
const UNLEASED: ConnectionLease = {
  held: true,
  opened: () => {},
  refused: async () => {},
  release: async () => {},
  keepable: async () => true,
};

/** The limit in force at `t`: the learned one, and one more once it has stood `probeAfterMs`. */
export function limitAt(limit: LeaseState["limit"], t: number): number | undefined {
  if (!limit) return undefined;
  return limit.connections + (t - limit.atMs >= LEASING.probeAfterMs ? 1 : 0);
}

export function createConnectionLeases(options: ConnectionLeasesOptions): ConnectionGate {
  const { store } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const storeTimeoutMs = options.storeTimeoutMs ?? STORE_CALL_TIMEOUT_MS;
  const coolOffMs = options.storeCoolOffMs ?? STORE_COOL_OFF_MS;
  const storeFailed = options.onStoreError ?? (() => {});
  let storeUnusedUntil = Number.NEGATIVE_INFINITY;

  /**
   * One store call within its deadline; undefined when it failed (said, and, unless `quiet`, the
   * cool-off starts: a renewal in the background must not make waiting containers connect unleased).
   */
  const ask = async <T>(call: () => Promise<T>, quiet = false): Promise<{ value: T } | undefined> => {
    try {
      const value = await withTimeout(
        Promise.resolve().then(call),
        storeTimeoutMs,
        "a call to the fleet's connection leases",
      );
      return { value };
    } catch (error) {
      if (!quiet) storeUnusedUntil = now() + coolOffMs;
      storeFailed(error);
      return undefined;
    }
  };

  /** Learns `connections` at `t`, and says so when the store took it. */
  const learn = async (connections: number, t: number, from: "refusal" | "probe") => {
    const learned = await ask(() => store.learnLimit({ connections, atMs: t }, t - LEASING.episodeMs));
    if (learned?.value) options.onLearned?.(connections, from);
  };

  /** `probe`: granted above the learned limit (`probing` connections), to find whether it has grown. */
  const lease = (id: string, grantedMs: number, probing?: number): ConnectionLease => {
    let expiresMs = grantedMs + LEASING.leaseMs;
    let lost = false;
    let released = false;
    const renewal = setInterval(() => {
      const until = now() + LEASING.leaseMs;
      void ask(() => store.renew(id, until), true).then((renewed) => {
        if (renewed?.value) expiresMs = until;
        else if (renewed) {
          // Taken back (it lapsed, and a grant removed it): the session is not used again.
          lost = true;
          clearInterval(renewal);
        }
        // Not answered: the lease lapses at its time here as in the store, and its session is
        // then closed after its send rather than run uncounted.
      });
    }, LEASING.renewEveryMs);
    renewal.unref();
    const release = async () => {
      clearInterval(renewal);
      if (released) return;
      released = true;
      await ask(() => store.release(id));
    };
    return {
      get held() {
        return !lost && !released && now() < expiresMs;
      },
      opened() {
        void ask(() => store.connected(id), true).then(async (marked) => {
          // The probe's connection was taken: the provider allows one more than was learned.
          if (marked?.value && probing !== undefined) await learn(probing + 1, now(), "probe");
        });
      },
      release,
      async refused() {
        try {
          const t = now();
          const read = await ask(() => store.read());
          if (!read) return;
          // What the provider was counting: the other connections open (greeted, not released).
          const open = Object.entries(read.value.holders).filter(
            ([other, h]) => other !== id && h.connected && h.expiresMs > t,
          ).length;
          await learn(Math.max(1, open), t, "refusal");
        } finally {
          await release();
        }
      },
      async keepable() {
        // Once the limit is known, a kept session would hold one of its connections through a
        // freeze, uncounted once its lease lapses; before, nothing waits for one.
        if (now() < storeUnusedUntil) return false;
        const read = await ask(() => store.read());
        return read !== undefined && read.value.limit === undefined;
      },
    };
  };

  return {
    async acquire(mayWait) {
      let inUse: number | undefined;
      for (let polls = 0; polls < LEASING.maxPolls; polls++) {
        const t = now();
        if (t < storeUnusedUntil) return UNLEASED;
        const read = await ask(() => store.read());
        if (!read) return UNLEASED;
        const state = read.value;
        const live = Object.entries(state.holders).filter(([, h]) => h.expiresMs > t);
        const limit = limitAt(state.limit, t);
        if (limit === undefined || live.length < limit) {
          const id = randomUUID();
          const lapsed = Object.keys(state.holders).filter((k) => !live.some(([l]) => l === k));
          const granted = await ask(() =>
            store.grant({ id, grantedMs: t, expiresMs: t + LEASING.leaseMs, version: state.version, lapsed }),
          );
          if (!granted) return UNLEASED;
          const probing =
            state.limit && live.length >= state.limit.connections ? state.limit.connections : undefined;
          if (granted.value) return lease(id, t, probing);
          // Another container's grant came first: read again in a moment.
          if (!mayWait()) break;
          await sleep(LEASING.lostGrantPauseMs * random());
          continue;
        }
        inUse = limit;
        if (!mayWait()) break;
        await sleep(LEASING.pollMs * (0.5 + random()));
      }
      throw new NotStartedError(
        `not started: the fleet's ${inUse ?? "leased"} connections (the limit learned from the provider) stayed in use`,
      );
    },
  };
}
