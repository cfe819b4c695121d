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

function virtualClock() {
  let t = 1_800_000_000_000;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function memoryStore() {
  const state: LeaseState = { holders: {}, version: 0 };
  const calls: string[] = [];
  let failing = false;
  const call = (name: string) => {
    calls.push(name);
    if (failing) throw new Error("the store is not answering");
  };
  const store: ConnectionLeaseStore = {
    async read({ wantedMs } = {}) {
      call("read");
      if (wantedMs !== undefined) state.wantedMs = wantedMs;
      return structuredClone(state);
    },
    async grant({ id, grantedMs, expiresMs, version, lapsed }) {
      call("grant");
      if (version !== state.version) return false;
      for (const l of lapsed) delete state.holders[l];
      state.holders[id] = { grantedMs, expiresMs };
      state.version++;
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
    async learnLimit(limit) {
      call("learnLimit");
      state.limit = limit;
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

afterEach(() => {
  vi.useRealTimers();
});

describe("the fleet's connection leases", () => {
  it("only counts connections until the provider first refuses one for its limit", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    const gate = createConnectionLeases({ store, ...clock });

    const leases = [];
    for (let i = 0; i < 6; i++) leases.push(await gate.acquire(() => false));
    expect(Object.keys(state.holders)).toHaveLength(6);
    expect(leases.every((l) => l.held)).toBe(true);

    await leases[0]?.release();
    expect(Object.keys(state.holders)).toHaveLength(5);
  });

  it("learns the limit at a refusal: the leases granted before the refused one and still held", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    const learned: number[] = [];
    const gate = createConnectionLeases({ store, ...clock, onLearned: (n) => learned.push(n) });
    const held = [];
    for (let i = 0; i < 4; i++) {
      held.push(await gate.acquire(always));
      clock.advance(1);
    }
    const refused = await gate.acquire(always);
    clock.advance(1);
    // Granted after the refused one: the provider was not counting it when it refused.
    const later = await gate.acquire(always);

    await refused.refused();

    expect(learned).toEqual([4]);
    expect(state.limit).toEqual({ connections: 4, atMs: clock.now() });
    expect(Object.keys(state.holders)).toHaveLength(5); // the refused lease is released
    expect(later.held && held.every((l) => l.held)).toBe(true);
  });

  it("makes a container wait while the limit's connections are held, saying it waits, until one is released", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    state.limit = { connections: 2, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    const a = await gate.acquire(always);
    expect(await a.wanted()).toBe(false); // room for one more, nobody waits: a may keep its session
    await gate.acquire(always);
    expect(await a.wanted()).toBe(true); // full: the next container would wait for a's idle session

    let polls = 0;
    const waiter = gate.acquire(() => {
      polls++;
      // The holder's session ends while the waiter waits; it is told someone waits first.
      if (polls === 3) {
        void a.wanted().then(async (w) => {
          if (w) await a.release();
        });
      }
      return true;
    });
    const got = await waiter;

    expect(got.held).toBe(true);
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(state.wantedMs).toBeGreaterThan(clock.now() - LEASING.wantedForMs);
    expect(Object.keys(state.holders)).toHaveLength(2);
  });

  it("wants an idle session back while a container has just waited, and not without a learned limit", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    const gate = createConnectionLeases({ store, ...clock });
    const a = await gate.acquire(always);
    state.wantedMs = clock.now();
    expect(await a.wanted()).toBe(false); // no limit: nobody can be waiting

    state.limit = { connections: 3, atMs: clock.now() };
    expect(await a.wanted()).toBe(true);
    clock.advance(LEASING.wantedForMs);
    expect(await a.wanted()).toBe(false);
  });

  it("stops waiting when a send may no longer start, with an error that names the limit", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    state.limit = { connections: 1, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    await gate.acquire(always);

    const error = await gate.acquire(() => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotStartedError);
    expect((error as Error).message).toMatch(/1 connections \(the limit learned from the provider\)/);
  });

  it("frees a killed container's lease once it lapses, and removes it with the next grant", async () => {
    const clock = virtualClock();
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

  it("allows one connection more a probeAfterMs after the limit was learned", async () => {
    const clock = virtualClock();
    const { store, state } = memoryStore();
    state.limit = { connections: 1, atMs: clock.now() };
    const gate = createConnectionLeases({ store, ...clock });
    await gate.acquire(always);
    clock.advance(LEASING.probeAfterMs - 1);
    // Renewed (as its timer would) so it still counts.
    await store.renew(Object.keys(state.holders)[0] ?? "", clock.now() + LEASING.leaseMs);
    await expect(gate.acquire(() => false)).rejects.toThrow(NotStartedError);

    clock.advance(1);
    const second = await gate.acquire(() => false);
    expect(second.held).toBe(true);
    expect(Object.keys(state.holders)).toHaveLength(2);
  });

  it("renews a held lease, and loses it when the fleet took it back: its session is not reused", async () => {
    vi.useFakeTimers();
    const clock = virtualClock();
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

    await lease.release();
    clock.advance(LEASING.renewEveryMs);
    await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs * 3);
    expect(calls.filter((c) => c === "renew")).toHaveLength(2); // none after the release
  });

  it("keeps a lease the store could not renew: the container is alive, and the store cannot give it away", async () => {
    vi.useFakeTimers();
    const clock = virtualClock();
    const { store, fail } = memoryStore();
    const gate = createConnectionLeases({ store, now: clock.now });
    const lease = await gate.acquire(always);

    fail(true);
    for (let i = 0; i < 4; i++) {
      clock.advance(LEASING.renewEveryMs);
      await vi.advanceTimersByTimeAsync(LEASING.renewEveryMs);
    }
    expect(lease.held).toBe(true); // 40 s: past the lease, renewed locally all along

    // A freeze runs no timer: past the lease, the session is not reused.
    clock.advance(LEASING.leaseMs);
    expect(lease.held).toBe(false);
    await lease.release();
  });

  it("lets the connection open unleased when the store fails, and leaves the store alone for a while", async () => {
    const clock = virtualClock();
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
