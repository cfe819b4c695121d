/**
 * The provider limits' arithmetic (infra/provider-limits.ts): every preset's figures, the
 * invariants over every preset and pool and a grid of explicit limits, overrides, the errors, and
 * the table docs/delivery.md shows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readVariable } from "../../functions/environment.ts";
import { DeploymentConfigError, DeploymentConfigSchema, deploymentConfig } from "../../infra/config.ts";
import {
  DEFAULT_PROVIDER,
  type DerivedSendLimits,
  deriveSendLimits,
  formatRate,
  MAX_MAX_CONCURRENCY,
  MESSAGES_PER_CONNECTION_PER_SECOND,
  PROVIDER_NAMES,
  PROVIDER_PRESETS,
  type ProviderLimits,
  ProviderLimitsError,
  type ProviderName,
  resolveProviderLimits,
} from "../../infra/provider-limits.ts";

const root = join(import.meta.dirname, "..", "..");

/** Every rule the derivation promises, for one input. */
function expectInvariants(limits: ProviderLimits, poolSize: number, derived: DerivedSendLimits): void {
  const where = JSON.stringify({ limits, poolSize, derived });
  const { maxSendRate: R, maxConnections: C } = limits;
  expect(derived.poolSize, where).toBeGreaterThanOrEqual(1);
  expect(derived.poolSize, where).toBeLessThanOrEqual(poolSize);
  expect(Number.isInteger(derived.poolSize), where).toBe(true);
  if (R === undefined && C === undefined) {
    expect(derived, where).toEqual({ poolSize });
    return;
  }
  const N = derived.maxConcurrency;
  expect(N, where).toBeDefined();
  if (N === undefined) return;
  expect(Number.isInteger(N), where).toBe(true);
  expect(N, where).toBeGreaterThanOrEqual(2);
  expect(N, where).toBeLessThanOrEqual(MAX_MAX_CONCURRENCY);
  if (C !== undefined) expect(N * derived.poolSize, where).toBeLessThanOrEqual(C);
  if (R === undefined) {
    expect(derived.perContainerRate, where).toBeUndefined();
    return;
  }
  const r = derived.perContainerRate;
  expect(r, where).toBeGreaterThan(0);
  if (r === undefined) return;
  expect(N * r, where).toBeLessThanOrEqual(R);
  // No more containers than the rate can use, unless Lambda's minimum of 2 asks for them.
  expect(N, where).toBeLessThanOrEqual(
    Math.max(
      2,
      Math.ceil(
        R / (MESSAGES_PER_CONNECTION_PER_SECOND * Math.min(poolSize, C ? Math.floor(C / 2) : poolSize)),
      ),
    ),
  );
  // The decimal the function reads back is the same rate.
  expect(readVariable({ SEND_RATE_PER_SECOND: formatRate(r) }, "SEND_RATE_PER_SECOND"), where).toBe(r);
}

describe("the presets", () => {
  it("are the six the issue names, unlimited the default", () => {
    expect(PROVIDER_NAMES).toEqual([
      "ses-sandbox",
      "ses-production",
      "microsoft-365",
      "google-workspace",
      "postfix",
      "unlimited",
    ]);
    expect(DEFAULT_PROVIDER).toBe("unlimited");
    expect(resolveProviderLimits({})).toEqual({});
    for (const name of PROVIDER_NAMES) expect(PROVIDER_PRESETS[name].source).not.toBe("");
  });

  it("hold the providers' figures", () => {
    const limits = Object.fromEntries(
      PROVIDER_NAMES.map((name) => [name, resolveProviderLimits({ provider: name })]),
    );
    expect(limits).toEqual({
      "ses-sandbox": { maxSendRate: 1 },
      "ses-production": { maxSendRate: 14 },
      "microsoft-365": { maxSendRate: 0.5, maxConnections: 3 },
      "google-workspace": { maxSendRate: 1, maxConnections: 3 },
      postfix: { maxConnections: 40 },
      unlimited: {},
    });
  });

  // [preset, notificationPoolSize, maxConcurrency, pool, rate per container]
  it.each<[ProviderName, number, number | undefined, number, number | undefined]>([
    ["ses-sandbox", 1, 2, 1, 0.5],
    ["ses-production", 1, 2, 1, 7],
    ["microsoft-365", 1, 2, 1, 0.25],
    ["google-workspace", 1, 2, 1, 0.5],
    ["postfix", 1, 40, 1, undefined],
    ["unlimited", 1, undefined, 1, undefined],
    // The largest pool: a rate needs one connection a container, postfix's 40 fit 4 pools of 10.
    ["ses-sandbox", 10, 2, 1, 0.5],
    ["ses-production", 10, 2, 1, 7],
    ["microsoft-365", 10, 2, 1, 0.25],
    ["google-workspace", 10, 2, 1, 0.5],
    ["postfix", 10, 4, 10, undefined],
    ["unlimited", 10, undefined, 10, undefined],
  ])(
    "%s with notificationPoolSize %i: maxConcurrency %s, pool %i, rate %s",
    (name, poolSize, N, pool, rate) => {
      const limits = resolveProviderLimits({ provider: name });
      const derived = deriveSendLimits(limits, poolSize);
      expect(derived).toEqual({
        ...(N !== undefined ? { maxConcurrency: N } : {}),
        poolSize: pool,
        ...(rate !== undefined ? { perContainerRate: rate } : {}),
      });
      expectInvariants(limits, poolSize, derived);
    },
  );

  it.each(PROVIDER_NAMES)("%s keeps every invariant for every pool from 1 to 10", (name) => {
    const limits = resolveProviderLimits({ provider: name });
    for (let poolSize = 1; poolSize <= 10; poolSize++) {
      expectInvariants(limits, poolSize, deriveSendLimits(limits, poolSize));
    }
  });
});

describe("explicit limits", () => {
  it("override the preset's, each on its own", () => {
    expect(resolveProviderLimits({ provider: "ses-production", maxSendRate: 50 })).toEqual({
      maxSendRate: 50,
    });
    expect(resolveProviderLimits({ provider: "microsoft-365", maxConnections: 10 })).toEqual({
      maxSendRate: 0.5,
      maxConnections: 10,
    });
    expect(resolveProviderLimits({ provider: "postfix", maxSendRate: 14 })).toEqual({
      maxSendRate: 14,
      maxConnections: 40,
    });
    expect(resolveProviderLimits({ maxConnections: 6 })).toEqual({ maxConnections: 6 });
  });

  // [limits, notificationPoolSize, maxConcurrency, pool, rate per container]
  it.each<[ProviderLimits, number, number, number, number | undefined]>([
    // A raised SES rate: 5 containers of one connection at 10 a second.
    [{ maxSendRate: 50 }, 1, 5, 1, 10],
    // Larger pools need fewer containers: ceil(100 / 30) = 4 at 25 a second over 3 connections.
    [{ maxSendRate: 100 }, 3, 4, 3, 25],
    // A share that does not divide evenly is rounded down: 3 × 8.333333 ≤ 25.
    [{ maxSendRate: 25 }, 1, 3, 1, 8.333333],
    // A rate under a connection limit: the rate decides.
    [{ maxSendRate: 14, maxConnections: 40 }, 1, 2, 1, 7],
    // The connections cap the containers even when the rate wants more.
    [{ maxSendRate: 100, maxConnections: 4 }, 1, 4, 1, 25],
    // A pool that two containers could not both hold is lowered, then to what the share uses.
    [{ maxSendRate: 0.5, maxConnections: 10 }, 5, 2, 1, 0.25],
    [{ maxConnections: 2 }, 10, 2, 1, undefined],
    [{ maxConnections: 7 }, 3, 2, 3, undefined],
    // Lambda's 1000 bounds the containers.
    [{ maxConnections: 5000 }, 1, 1000, 1, undefined],
    [{ maxSendRate: 100_000 }, 1, 1000, 1, 100],
    // The smallest rate: two containers at half of it.
    [{ maxSendRate: 0.001 }, 1, 2, 1, 0.0005],
  ])("%j with pool %i: maxConcurrency %i, pool %i, rate %s", (limits, poolSize, N, pool, rate) => {
    const derived = deriveSendLimits(limits, poolSize);
    expect(derived).toEqual({
      maxConcurrency: N,
      poolSize: pool,
      ...(rate !== undefined ? { perContainerRate: rate } : {}),
    });
    expectInvariants(limits, poolSize, derived);
  });

  it("keep every invariant over a grid of rates, connections and pools", () => {
    const rates = [undefined, 0.001, 0.1, 0.3, 0.5, 1, 1.7, 7, 14, 33.3, 50, 99, 250, 1000, 14_000];
    const connections = [undefined, 2, 3, 4, 5, 9, 10, 40, 50, 101, 999, 2500];
    for (const maxSendRate of rates) {
      for (const maxConnections of connections) {
        for (let poolSize = 1; poolSize <= 10; poolSize++) {
          const limits = resolveProviderLimits({ maxSendRate, maxConnections });
          expectInvariants(limits, poolSize, deriveSendLimits(limits, poolSize));
        }
      }
    }
  });

  it("give SEND_RATE_PER_SECOND as a plain decimal", () => {
    expect(formatRate(0.25)).toBe("0.25");
    expect(formatRate(7)).toBe("7");
    expect(formatRate(0.0005)).toBe("0.0005");
    expect(formatRate(8.333333)).toBe("8.333333");
    expect(formatRate(100)).toBe("100");
  });
});

describe("errors", () => {
  it.each<[ProviderLimits, RegExp]>([
    [
      { maxConnections: 1 },
      /^context maxConnections: 1 must be a whole number of connections, at least 2 \(Lambda's SQS maximumConcurrency is at least 2/,
    ],
    [{ maxConnections: 0 }, /context maxConnections: 0 must be a whole number/],
    [{ maxConnections: 2.5 }, /context maxConnections: 2.5 must be a whole number/],
    [{ maxSendRate: 0 }, /^context maxSendRate: 0 must be messages a second, above 0/],
    [{ maxSendRate: -1 }, /context maxSendRate: -1 must be messages a second, above 0/],
    [{ maxSendRate: Number.NaN }, /context maxSendRate: NaN must be messages a second/],
    [{ maxSendRate: 0.0001 }, /context maxSendRate: 0.0001 must be .* from 0.001 to 100000/],
  ])("%j is refused, naming the context key and the rule", (limits, message) => {
    expect(() => deriveSendLimits(limits, 1)).toThrow(ProviderLimitsError);
    expect(() => deriveSendLimits(limits, 1)).toThrow(message);
    expect(() => resolveProviderLimits(limits)).toThrow(message);
  });

  it("refuses a pool that is no whole number of at least 1, and a provider that is no preset", () => {
    expect(() => deriveSendLimits({ maxSendRate: 1 }, 0)).toThrow(
      /notificationPoolSize: 0 must be a whole number/,
    );
    expect(() => resolveProviderLimits({ provider: "sendgrid" as ProviderName })).toThrow(
      /context provider: sendgrid is not a preset; known: ses-sandbox, /,
    );
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [
      { maxConnections: 1 },
      /Invalid context: maxConnections: must be a whole number of connections, at least 2/,
    ],
    [{ maxConnections: "3.5" }, /maxConnections: must be a whole number of connections, at least 2/],
    [{ maxSendRate: 0 }, /Invalid context: maxSendRate: must be messages a second, above 0/],
    [{ maxSendRate: "-2" }, /maxSendRate: must be messages a second, above 0/],
    [{ maxSendRate: "fast" }, /maxSendRate: must be messages a second, above 0/],
    [
      { provider: "gmail" },
      /provider: must be one of ses-sandbox, ses-production, microsoft-365, google-workspace, postfix, unlimited/,
    ],
  ])("context %j fails synth with a DeploymentConfigError naming the key", (context, message) => {
    const read = () => deploymentConfig((key) => context[key]);
    expect(read).toThrow(DeploymentConfigError);
    expect(read).toThrow(message);
  });

  it("reads the limits from context as -c gives them (strings)", () => {
    const config = deploymentConfig(
      (key) => ({ provider: "microsoft-365", maxSendRate: "0.75", maxConnections: "5" })[key],
    );
    expect(resolveProviderLimits(config)).toEqual({ maxSendRate: 0.75, maxConnections: 5 });
  });
});

describe("docs/delivery.md", () => {
  const page = readFileSync(join(root, "docs", "delivery.md"), "utf8");
  const defaultPool = DeploymentConfigSchema.parse({}).notificationPoolSize;
  const rows = new Map(
    page
      .split("\n")
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .filter((cells) => cells[0] === "" && /^`[a-z0-9-]+`$/.test(cells[1] ?? ""))
      .map((cells) => [cells[1]?.slice(1, -1), cells.slice(2, 7)]),
  );

  it.each(PROVIDER_NAMES)("shows %s's limits and derived figures as the code computes them", (name) => {
    const limits = resolveProviderLimits({ provider: name });
    const derived = deriveSendLimits(limits, defaultPool);
    const show = (n: number | undefined, none: string) => (n === undefined ? none : formatRate(n));
    expect(rows.get(name), `docs/delivery.md has no row for ${name}`).toEqual([
      show(limits.maxSendRate, "none"),
      show(limits.maxConnections, "none"),
      show(derived.maxConcurrency, "unset"),
      String(derived.poolSize),
      show(derived.perContainerRate, "unset"),
    ]);
  });

  it("names the default pool the table is computed for", () => {
    expect(page).toContain(`With the default \`notificationPoolSize\` (${defaultPool})`);
  });
});
