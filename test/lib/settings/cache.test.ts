import { describe, expect, it } from "vitest";
import type { Logger } from "../../../lib/logger.ts";
import { createCachedLoader } from "../../../lib/settings/index.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function recordingLogger() {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
  return { logger, warnings };
}

describe("createCachedLoader", () => {
  it("loads once and serves warm calls until the ttl passes", async () => {
    const c = clock();
    let loads = 0;
    const cache = createCachedLoader({ load: async () => ++loads, ttlSeconds: 60, now: c.now });
    expect(await cache.get()).toBe(1);
    c.advance(59_999);
    expect(await cache.get()).toBe(1);
    c.advance(1);
    expect(await cache.get()).toBe(2);
  });

  it("shares one load between concurrent callers", async () => {
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const cache = createCachedLoader({
      load: async () => {
        loads++;
        await gate;
        return "settings";
      },
    });
    const all = Promise.all([cache.get(), cache.get(), cache.get()]);
    release();
    expect(await all).toEqual(["settings", "settings", "settings"]);
    expect(loads).toBe(1);
  });

  it("fails the first load", async () => {
    const cache = createCachedLoader({
      load: async () => {
        throw new Error("SSM unreachable");
      },
    });
    await expect(cache.get()).rejects.toThrow("SSM unreachable");
  });

  it("serves the last good value with a warning when a refresh fails, and retries after a pause", async () => {
    const c = clock();
    const { logger, warnings } = recordingLogger();
    let fail = false;
    let loads = 0;
    const cache = createCachedLoader({
      load: async () => {
        loads++;
        if (fail) throw new Error("boom");
        return `v${loads}`;
      },
      ttlSeconds: 60,
      retryAfterFailureSeconds: 5,
      now: c.now,
      logger,
    });
    expect(await cache.get()).toBe("v1");
    fail = true;
    c.advance(60_000);
    expect(await cache.get()).toBe("v1");
    expect(warnings).toEqual(["Settings refresh failed; serving the last good settings"]);
    c.advance(4_999);
    expect(await cache.get()).toBe("v1");
    expect(loads).toBe(2); // no retry inside the pause
    fail = false;
    c.advance(1);
    expect(await cache.get()).toBe("v3");
  });

  it("with ttl 0 loads on every call", async () => {
    let loads = 0;
    const cache = createCachedLoader({ load: async () => ++loads, ttlSeconds: 0 });
    await cache.get();
    await cache.get();
    expect(loads).toBe(2);
  });
});
