/**
 * The load test in small, in the suite: 60 notifications queued at once in moto's SQS, drained by
 * the deployed bundle (bundleFunction) in container processes (two, as deriveSendLimits deploys
 * these limits) fed by the Lambda-like poller, against a provider allowing 20 messages a second
 * and 4 connections (test/bench/load/). The full scenarios are `npm run load` (docs/load-test.md).
 *
 * No wall-clock assertion (these machines are noisy): what the provider counted is the measure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { computeMetrics, peakInWindow } from "../bench/load/metrics.ts";
import { runScenario, type ScenarioSpec } from "../bench/load/scenario.ts";
import { buildBundle } from "../bench/load/world.ts";

const SPEC: ScenarioSpec = {
  id: "burst",
  title: "60 at 20/s, 4 connections",
  count: 60,
  ratePerSecond: 20,
  maxConnections: 4,
};

describe("send-notification under a provider's limits, as deployed", () => {
  it("delivers a burst of 60 at 20/s exactly once, none dead-lettered or lost, within the provider's rate", {
    timeout: 120_000,
  }, async () => {
    const workDir = mkdtempSync(join(tmpdir(), "load-burst-"));
    const bundle = buildBundle(workDir);
    const run = await runScenario(SPEC, {
      motoEndpoint: inject("motoEndpoint"),
      bundle,
      workDir,
      // Well inside the test's timeout; a run that needs a back-off (30 s and more) still fits.
      giveUpSeconds: 90,
      progressEverySeconds: 3600,
    });
    const m = computeMetrics(run);
    const summary = JSON.stringify(
      {
        settings: run.settings,
        delivered: m.delivered,
        deadLettered: m.deadLettered,
        lost: m.lost,
        stillQueued: m.stillQueued,
        throttled: m.throttled,
        connectionRefusals: m.connectionRefusals,
        invocations: run.history.invocations.map((i) => `${i.slot}:${i.outcome}:${i.records}-${i.failed}`),
        functionLog: Object.fromEntries(run.logTally),
        logs: run.logDir,
      },
      null,
      2,
    );

    // The deployment the stack derives for these limits: the containers' shares and pools fit them.
    const { concurrency, perContainerRate = Number.POSITIVE_INFINITY, poolSize } = run.settings;
    expect(concurrency * perContainerRate, summary).toBeLessThanOrEqual(SPEC.ratePerSecond);
    expect(concurrency * poolSize, summary).toBeLessThanOrEqual(SPEC.maxConnections);

    // Every notification delivered, once; a duplicate only with its at-least-once window named.
    expect(m.delivered, summary).toBe(SPEC.count);
    const unexplained = m.duplicates.filter((d) => !d.explained);
    expect(unexplained, JSON.stringify(m.duplicates, null, 2)).toEqual([]);
    expect(m.strangers, summary).toBe(0);
    expect(m.deadLettered, summary).toBe(0);
    expect(m.lost, summary).toBe(0);
    expect(run.gaveUp, summary).toBe(false);

    // The provider's bucket (20 saved up, 20 a second) bounds what it accepts in any second…
    const accepted = run.accepted.map((a) => a.mailFromAt);
    expect(peakInWindow(accepted, 1000), summary).toBeLessThanOrEqual(
      run.settings.providerBurst + SPEC.ratePerSecond,
    );
    // …and its own count of 454 replies says whether the fleet kept to the rate: it never had to refuse.
    expect(m.throttled, summary).toBe(0);
    // The bundle and the containers' logs are kept only when an assertion failed.
    rmSync(workDir, { recursive: true, force: true });
  });

  it("keeps two containers a slot apart against a sandbox's 1 a second that saves up one message: no 454", {
    timeout: 120_000,
  }, async () => {
    // Two containers at half the rate each collide here without the fleet's schedule (a bucket of
    // one refuses the second of two sends less than a second apart), whatever their phase.
    const sandbox: ScenarioSpec = {
      id: "sandbox",
      title: "12 at 1/s",
      count: 12,
      ratePerSecond: 1,
      maxConnections: 2,
    };
    const workDir = mkdtempSync(join(tmpdir(), "load-sandbox-"));
    const run = await runScenario(sandbox, {
      motoEndpoint: inject("motoEndpoint"),
      bundle: buildBundle(workDir),
      workDir,
      giveUpSeconds: 90,
      progressEverySeconds: 3600,
    });
    const m = computeMetrics(run);
    const summary = JSON.stringify(
      { settings: run.settings, delivered: m.delivered, throttled: m.throttled, logs: run.logDir },
      null,
      2,
    );
    expect(run.settings.concurrency, summary).toBe(2);
    expect(run.settings.providerBurst, summary).toBe(1);
    expect(m.delivered, summary).toBe(sandbox.count);
    expect(m.deadLettered + m.lost, summary).toBe(0);
    expect(m.throttled, summary).toBe(0);
    const accepted = run.accepted.map((a) => a.mailFromAt);
    expect(peakInWindow(accepted, 1000), summary).toBe(1);
    rmSync(workDir, { recursive: true, force: true });
  });
});
