/**
 * The fleet's connection leases, on a virtual clock, over a store in memory that keeps the
 * DynamoDB item's rules (a grant on a stale version is refused). The DynamoDB store itself:
 * test/lib/aws-dynamodb/connection-leases.integration.test.ts; a real relay's limit:
 * test/lib/smtp/mailer-gate.integration.test.ts.
 */
import { afterEach, describe, expect, it, vi } from "vitest";

import {
  type ConnectionLeaseStore,
  createConnectionLeases,
  LEASING,
  type LeaseState,
} from "../../../lib/notifications/index.ts";
import { NotStartedError } from "../../../lib/smtp/index.ts";
import { virtualClock } from "../../helpers/virtual-clock.ts";

function memoryStore() {
  const state: LeaseState = { holders: {}, version: 0 };
  const calls: string[] = [];
  let failing = false;
  const call = (name: string) => {
    calls.push(name);
    if (failing) throw new Error("the store is not answering");
  };
  const store: ConnectionLeaseStore = {
    async read() {
      call("read");
      return structuredClone(state);
    },
    async grant({ id, grantedMs, expiresMs, version, lapsed }) {
      call("grant");
      if (version !== state.version) return false;
      for (const l of lapsed) delete state.holders[l];
      state.holders[id] = { grantedMs, expiresMs, connected: false };
      state.version++;
      return true;
    },
    async connected(id) {
      call("connected");
      const lease = state.holders[id];
      if (!lease) return false;
      lease.connected = true;
      return true;
    },
    async renew(id, expiresMs) {
      call("renew");
      const lease = state.holders[id];
      if (!lease) return false;
      lease.expiresMs = expiresMs;
      return true;
    },
    async release(id) {
      call("release");
      delete state.holders[id];
    },
    async learnLimit(limit, episodeStartMs) {
      call("learnLimit");
      const held = state.limit;
      if (held && held.atMs >= episodeStartMs && held.connections >= limit.connections) return false;
      state.limit = limit;
      return true;
    },
  };
  return {
    store,
    state,
    calls,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

const always = () => true;

/** Lets the calls a lease starts in the background (its mark, a probe's learning) settle. */
const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

afterEach(() => {
  vi.useRealTimers();
});

describe("the fleet's connection leases", () => {
  it("only counts connections until the provider first refuses one for its limit", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    const gate = createConnectionLeases({ store, ...clock });

    const leases = [];
    for (let i = 0; i < 6; i++) leases.push(await gate.acquire(() => false));
    expect(Object.keys(state.holders)).toHaveLength(6);
    expect(leases.every((l) => l.held)).toBe(true);

    await leases[0]?.release();
    expect(Object.keys(state.holders)).toHaveLength(5);
  });

  it("learns the limit at a refusal: the other leases whose connection the server had greeted", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    const learned: Array<[number, string]> = [];
    const gate = createConnectionLeases({ store, ...clock, onLearned: (n, from) => learned.push([n, from]) });
    const open = [];
    for (let i = 0; i < 4; i++) {
      const lease = await gate.acquire(always);
      lease.opened();
      open.push(lease);
    }
    const stillConnecting = await gate.acquire(always); // granted, not greeted yet: not counted
    const refused = await gate.acquire(always);
    await flush();

    await refused.refused();

    expect(learned).toEqual([[4, "refusal"]]);
    expect(state.limit).toEqual({ connections: 4, atMs: clock.now() });
    expect(Object.keys(state.holders)).toHaveLength(5); // the refused lease is released
    expect(stillConnecting.held && open.every((l) => l.held)).toBe(true);
  });

  it("takes refusals in one episode as one learning, keeping the highest count", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    const learned: number[] = [];
    const gate = createConnectionLeases({ store, ...clock, onLearned: (n) => learned.push(n) });
    const a = await gate.acquire(always);
    const b = await gate.acquire(always);
    a.opened();
    b.opened();
    const first = await gate.acquire(always);
    const second = await gate.acquire(always);
    await flush();

    await first.refused(); // counts a and b, and second's lease (not greeted): 2
    await b.release();
    clock.advance(LEASING.episodeMs - 1);
    await second.refused(); // b has gone meanwhile: 1, in the same episode
    expect(state.limit?.connections).toBe(2);
    expect(learned).toEqual([2]);

    // A later episode learns again, lower if the provider says so.
    const third = await gate.acquire(always);
    clock.advance(2);
    await third.refused();
    expect(state.limit?.connections).toBe(1);
    expect(learned).toEqual([2, 1]);
  });

  it("makes a container wait while the limit's connections are held, until one is released", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    state.limit = { connections: 2, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    const a = await gate.acquire(always);
    await gate.acquire(always);

    let polls = 0;
    const waiter = gate.acquire(() => {
      polls++;
      if (polls === 3) void a.release(); // a's session ends while the waiter waits
      return true;
    });
    const got = await waiter;

    expect(got.held).toBe(true);
    expect(polls).toBe(3);
    expect(Object.keys(state.holders)).toHaveLength(2);
  });

  it("keeps an idle session for the next batch only while the fleet knows no connection limit", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    const gate = createConnectionLeases({ store, ...clock });
    const a = await gate.acquire(always);
    expect(await a.keepable()).toBe(true);

    // A frozen container runs no renewal: its kept session would hold a connection uncounted.
    state.limit = { connections: 3, atMs: clock.now() };
    expect(await a.keepable()).toBe(false);
  });

  it("stops waiting when a send may no longer start, with an error that names the limit", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    state.limit = { connections: 1, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    await gate.acquire(always);

    const error = await gate.acquire(() => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotStartedError);
    expect((error as Error).message).toMatch(/1 connections \(the limit learned from the provider\)/);
  });

  it("frees a killed container's lease once it lapses, and removes it with the next grant", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    state.limit = { connections: 1, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    await gate.acquire(always); // its container is killed: never renewed, never released
    const deadId = Object.keys(state.holders)[0];

    const started = clock.now();
    const next = await gate.acquire(always);
    expect(next.held).toBe(true);
    const waited = clock.now() - started;
    expect(waited).toBeGreaterThanOrEqual(LEASING.leaseMs);
    expect(waited).toBeLessThan(LEASING.leaseMs + 2 * LEASING.pollMs);
    expect(Object.keys(state.holders)).not.toContain(deadId);
  });

  it("allows one connection more (only one) once the limit has stood a probeAfterMs, and raises it when that one opens", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, state } = memoryStore();
    state.limit = { connections: 1, atMs: clock.now() };
    const learned: Array<[number, string]> = [];
    const gate = createConnectionLeases({ store, ...clock, onLearned: (n, from) => learned.push([n, from]) });
    await gate.acquire(always);
    const renewFirst = () => store.renew(Object.keys(state.holders)[0] ?? "", clock.now() + LEASING.leaseMs);
    clock.advance(LEASING.probeAfterMs - 1);
    await renewFirst();
    await expect(gate.acquire(() => false)).rejects.toThrow(NotStartedError);

    // An hour idle allows one more, not 120 more.
    clock.advance(3_600_000);
    await renewFirst();
    const probe = await gate.acquire(() => false);
    await expect(gate.acquire(() => false)).rejects.toThrow(NotStartedError);

    probe.opened(); // the provider took it: it allows two
    await flush();
    expect(state.limit).toEqual({ connections: 2, atMs: clock.now() });
    expect(learned).toEqual([[2, "probe"]]);
  });

  it("renews a held lease, and loses it when the fleet took it back: its session is not reused", async () => {
    vi.useFakeTimers();
    const clock = virtualClock(1_800_000_000_000);
    const { store, state, calls } = memoryStore();
    const gate = createConnectionLeases({ store, now: clock.now });
    const lease = await gate.acquire(always);
    const id = Object.keys(state.holders)[0] ?? "";

    clock.advance(LEASING.renewEveryMs);
    await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs);
    expect(calls.filter((c) => c === "renew")).toHaveLength(1);
    expect(state.holders[id]?.expiresMs).toBe(clock.now() + LEASING.leaseMs);
    expect(lease.held).toBe(true);

    delete state.holders[id]; // lapsed during a freeze, removed by another container's grant
    clock.advance(LEASING.renewEveryMs);
    await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs);
    expect(lease.held).toBe(false);

    clock.advance(LEASING.renewEveryMs);
    await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs * 3);
    expect(calls.filter((c) => c === "renew")).toHaveLength(2); // none once lost
    await lease.release();
  });

  it("lets a lease the store could not renew lapse at its time, without making waiters connect unleased", async () => {
    vi.useFakeTimers();
    const clock = virtualClock(1_800_000_000_000);
    const { store, state, calls, fail } = memoryStore();
    state.limit = { connections: 2, atMs: clock.now() };
    const gate = createConnectionLeases({ store, now: clock.now, sleep: clock.sleep });
    const lease = await gate.acquire(always);

    fail(true);
    clock.advance(LEASING.renewEveryMs);
    await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs);
    fail(false);
    // The renewal's failure starts no cool-off: the next container still asks the store.
    const before = calls.length;
    await gate.acquire(always);
    expect(calls.slice(before)).toEqual(["read", "grant"]);

    fail(true);
    for (let i = 0; i < 2; i++) {
      clock.advance(LEASING.renewEveryMs);
      await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs);
    }
    // Unrenewed for 30 s, as in the store, where another grant may now remove it.
    expect(lease.held).toBe(false);
    fail(false);
    await lease.release();
  });

  it("lets the connection open unleased when the store fails, and leaves the store alone for a while", async () => {
    const clock = virtualClock(1_800_000_000_000);
    const { store, calls, fail } = memoryStore();
    const errors: unknown[] = [];
    const gate = createConnectionLeases({ store, ...clock, onStoreError: (e) => errors.push(e) });
    fail(true);

    const lease = await gate.acquire(always);
    expect(lease.held).toBe(true);
    await lease.release();
    await gate.acquire(always);
    expect(calls).toEqual(["read"]);
    expect(errors).toHaveLength(1);

    fail(false);
    clock.advance(30_000);
    await gate.acquire(always);
    expect(calls).toEqual(["read", "read", "grant"]);
  });
});
