/**
 * The fleet's connections, for a deployment that configured no limits (provider `unlimited`):
 * Lambda then runs as many containers as the queue asks for (60 for a burst of 600), and a
 * provider that allows 4 connections refuses the rest with `421 4.7.0 too many connections`.
 * Without this, each refused batch backed off and came back, again and again: 600 notifications
 * against 20 a second and 4 connections took more than 20 × the ideal time (issue 19).
 *
 * Every session holds a lease in the send schedule's table while it is open. Until the provider
 * first refuses a connection for its limit, leases are only counted; at that refusal the fleet
 * learns the limit: the leases granted before the refused one and still held (the connections the
 * provider was counting). From then on a container opens a connection only when fewer leases are
 * held than the limit, and otherwise waits, asking again every `LEASING.pollMs` (± half), while a
 * send may still start. A container waiting says so in the table; a container whose batch ends
 * while the fleet is at its limit, or someone waits, gives its idle session up instead of keeping
 * it for the next batch (an idle kept session would hold a connection others wait for). Each `LEASING.probeAfterMs` without a refusal
 * allows one connection more, so a limit learned low (a session closing as the refusal came) or
 * raised by the provider is found again.
 *
 * A lease lasts `LEASING.leaseMs` and is renewed while its session lives, so a killed container's
 * leases free themselves; a session whose lease lapsed (a Lambda freeze) is not reused. The store
 * may never stop a send: a call that fails lets the connection open unleased, and the store is left
 * alone for `LEASING.coolOffMs`, as the send schedule is (fleet-schedule.ts).
 */
import { randomUUID } from "node:crypto";
import { type ConnectionGate, type ConnectionLease, NotStartedError } from "../smtp/index.ts";
import { withTimeout } from "../timeouts.ts";
import { STORE_CALL_TIMEOUT_MS, STORE_COOL_OFF_MS } from "./fleet-schedule.ts";

/** The leases as the store holds them (lib/aws-dynamodb: an item of the send schedule's table). */
export interface LeaseState {
  /** Each lease by id: when it was granted and when it lapses, epoch ms (lapsed ones included). */
  holders: Record<string, { grantedMs: number; expiresMs: number }>;
  /** The connection limit learned from the provider, and when. */
  limit?: { connections: number; atMs: number };
  /** The last time a container waited for a connection. */
  wantedMs?: number;
  /** Changes with every grant, so two grants cannot both take the last connection. */
  version: number;
}

export interface ConnectionLeaseStore {
  /** The leases; with `wantedMs`, also records that a container waits (in the same call). */
  read(options?: { wantedMs?: number }): Promise<LeaseState>;
  /** Adds the lease and removes `lapsed`, if the version is still `version`: false if another grant came first. */
  grant(request: {
    id: string;
    grantedMs: number;
    expiresMs: number;
    version: number;
    lapsed: readonly string[];
  }): Promise<boolean>;
  /** Extends a lease: false when it is no longer held. */
  renew(id: string, expiresMs: number): Promise<boolean>;
  release(id: string): Promise<void>;
  learnLimit(limit: { connections: number; atMs: number }): Promise<void>;
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
  /** A wait said this recently means someone waits now (a waiter says it at every ask). */
  wantedForMs: 2_000,
  /** After this long without a refusal, one connection more is allowed, and so on. */
  probeAfterMs: 30_000,
  /** Grants lost to other containers in a row before the connection opens unleased. */
  grantRounds: 8,
  /** The longest wait: a bound on the loop; the send's own deadline ends it sooner. */
  maxPolls: 10_000,
} as const;

export interface ConnectionLeasesOptions {
  store: ConnectionLeaseStore;
  /** The fleet learned (or re-learned) the provider's connection limit here. */
  onLearned?: (connections: number) => void;
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

/** What a connection opened without the store holds: nothing to lose or release. */
const UNLEASED: ConnectionLease = {
  held: true,
  refused: async () => {},
  release: async () => {},
  wanted: async () => false,
};

/** The limit in force at `t`: the learned one, plus one a `probeAfterMs` since it was learned. */
export function limitAt(limit: LeaseState["limit"], t: number): number | undefined {
  if (!limit) return undefined;
  return limit.connections + Math.max(0, Math.floor((t - limit.atMs) / LEASING.probeAfterMs));
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

  /** One store call within its deadline; undefined when it failed (said, and the cool-off starts). */
  const ask = async <T>(call: () => Promise<T>): Promise<{ value: T } | undefined> => {
    try {
      const value = await withTimeout(
        Promise.resolve().then(call),
        storeTimeoutMs,
        "a call to the fleet's connection leases",
      );
      return { value };
    } catch (error) {
      storeUnusedUntil = now() + coolOffMs;
      storeFailed(error);
      return undefined;
    }
  };

  const lease = (id: string, grantedMs: number): ConnectionLease => {
    let expiresMs = grantedMs + LEASING.leaseMs;
    let lost = false;
    let released = false;
    const renewal = setInterval(() => {
      const until = now() + LEASING.leaseMs;
      void ask(() => store.renew(id, until)).then((renewed) => {
        // Taken back (it lapsed, and a grant removed it): the session is not reused.
        if (renewed && !renewed.value) lost = true;
        // Renewed, or the store did not answer: the container is alive (a frozen one runs no
        // timer), and a store that cannot renew a lease cannot give it away either. A session
        // that outlived its lease in a freeze is the one to drop.
        else expiresMs = until;
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
      release,
      async refused() {
        const t = now();
        const read = await ask(() => store.read());
        if (read) {
          // What the provider was counting: the connections granted before this one, still held.
          const before = Object.entries(read.value.holders).filter(
            ([other, h]) => other !== id && h.grantedMs <= grantedMs && h.expiresMs > t,
          ).length;
          const connections = Math.max(1, before);
          await ask(() => store.learnLimit({ connections, atMs: t }));
          options.onLearned?.(connections);
        }
        await release();
      },
      async wanted() {
        if (now() < storeUnusedUntil) return false;
        const read = await ask(() => store.read());
        if (!read) return false;
        const t = now();
        const { holders, limit, wantedMs } = read.value;
        const limitNow = limitAt(limit, t);
        if (limitNow === undefined) return false; // no limit known: nobody waits
        const live = Object.values(holders).filter((h) => h.expiresMs > t).length;
        // Full: the next container to connect would wait for this idle session's keep-alive.
        return live >= limitNow || (wantedMs !== undefined && t - wantedMs < LEASING.wantedForMs);
      },
    };
  };

  return {
    async acquire(mayWait) {
      let waiting = false;
      for (let polls = 0, lostGrants = 0; polls < LEASING.maxPolls; ) {
        const t = now();
        if (t < storeUnusedUntil) return UNLEASED;
        const read = await ask(() => store.read(waiting ? { wantedMs: t } : {}));
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
          if (granted.value) return lease(id, t);
          // Another container took a lease since the read: read again at once, a few times.
          if (++lostGrants >= LEASING.grantRounds) return UNLEASED;
          continue;
        }
        waiting = true;
        if (!mayWait()) {
          throw new NotStartedError(
            `not started: the fleet's ${limit} connections (the limit learned from the provider) stayed in use`,
          );
        }
        polls++;
        await sleep(LEASING.pollMs * (0.5 + random()));
      }
      return UNLEASED;
    },
  };
}
