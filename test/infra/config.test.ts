/**
 * The context (infra/config.ts) beyond what the template shows: the receive limit's rule, tied to
 * the back-off (lib/notifications/backoff.ts), and the docs that state both.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONTEXT_KEYS,
  DeploymentConfigError,
  deploymentConfig,
  MIN_THROTTLE_SURVIVAL_SECONDS,
  smallestSurvivingReceiveLimit,
} from "../../infra/config.ts";
import { minimumSurvivalSeconds, RETRY_POLICY, retryDelaySeconds } from "../../lib/notifications/backoff.ts";

const root = join(import.meta.dirname, "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const config = (context: Record<string, unknown>) =>
  deploymentConfig((key) => context[key], Object.keys(context));

describe("maxReceiveCount", () => {
  it("defaults to the back-off's receive limit", () => {
    expect(config({}).maxReceiveCount).toBe(RETRY_POLICY.receiveLimit);
    expect(JSON.parse(read("cdk.json")).context.maxReceiveCount).toBeUndefined();
  });

  it("keeps a throttled record at least an hour: 4,433 s before the 100th receive", () => {
    expect(minimumSurvivalSeconds(RETRY_POLICY.receiveLimit)).toBe(4433);
    expect(MIN_THROTTLE_SURVIVAL_SECONDS).toBe(3600);
    expect(smallestSurvivingReceiveLimit()).toBe(82);
    expect(minimumSurvivalSeconds(81)).toBeLessThan(3600);
    expect(minimumSurvivalSeconds(82)).toBeGreaterThanOrEqual(3600);
  });

  it.each([82, 100, 1000])("accepts %i", (n) => {
    expect(config({ maxReceiveCount: n }).maxReceiveCount).toBe(n);
    expect(config({ maxReceiveCount: String(n) }).maxReceiveCount).toBe(n);
  });

  it.each([1, 12, 81])("refuses %i, saying why and the smallest that works", (n) => {
    expect(() => config({ maxReceiveCount: n })).toThrow(DeploymentConfigError);
    expect(() => config({ maxReceiveCount: n })).toThrow(
      `maxReceiveCount: ${n} lets a throttled record reach the dead-letter queue after ${minimumSurvivalSeconds(n)} s of back-off; a record must survive an hour (3600 s) of throttling before it can be dead-lettered: use at least 82`,
    );
  });

  it("still refuses what SQS or the schema would", () => {
    expect(() => config({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
    expect(() => config({ maxReceiveCount: 1001 })).toThrow(/maxReceiveCount/);
    expect(() => config({ maxReceiveCount: 82.5 })).toThrow(/maxReceiveCount/);
  });
});

describe("the docs", () => {
  it("docs/delivery.md writes out the shortest back-off total the code computes", () => {
    // The delays at the lowest factor: the first, then the capped one for every other receive.
    const first = retryDelaySeconds(1, () => 0);
    const capped = retryDelaySeconds(RETRY_POLICY.receiveLimit, () => 0);
    const rest = RETRY_POLICY.receiveLimit - 2;
    expect(retryDelaySeconds(2, () => 0)).toBe(capped);
    expect(first + rest * capped).toBe(minimumSurvivalSeconds());
    const total = minimumSurvivalSeconds().toLocaleString("en-US");
    expect(read("docs/delivery.md")).toContain(`${first} + ${rest} × ${capped} = ${total} s`);
  });

  it("docs/deploy.md's context table has a row for every context key", () => {
    const firstCells = read("docs/deploy.md")
      .split("\n")
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .filter((cells) => cells[0] === "" && cells.length > 2)
      .map((cells) => cells[1] ?? "");
    for (const key of CONTEXT_KEYS) {
      expect(
        firstCells.some((cell) => cell.split(" / ").includes(`\`${key}\``)),
        `docs/deploy.md has no row for ${key}`,
      ).toBe(true);
    }
  });
});

describe("every key is checked", () => {
  it("refuses a misspelt key, naming the one meant, instead of ignoring it", () => {
    expect(() => config({ maxRecieveCount: 5 })).toThrow(DeploymentConfigError);
    expect(() => config({ maxRecieveCount: 5 })).toThrow(
      /^Invalid context: unknown key maxRecieveCount \(did you mean maxReceiveCount\?\)\. The keys: stackName, settingsPath, /,
    );
    expect(() => config({ colour: "blue" })).toThrow(/unknown key colour\. The keys: /);
  });

  it("leaves CDK's own keys alone: feature flags, its settings, lookups, acknowledgements", () => {
    expect(() =>
      config({
        "@aws-cdk/aws-lambda:recognizeLayerVersion": true,
        "aws:cdk:bundling-stacks": [],
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [32775],
        "cli-telemetry": false,
      }),
    ).not.toThrow();
  });

  it("says that a JSON key needs JSON, rather than 'expected record'", () => {
    expect(() => config({ emailSettings: "notjson" })).toThrow(
      `Invalid context: emailSettings must be a JSON object, quoted for the shell (-c 'emailSettings={…}'); got "notjson"`,
    );
    expect(() => config({ testEndpointAllowedHosts: "smtp.example.com" })).toThrow(
      /testEndpointAllowedHosts must be a JSON array/,
    );
    expect(config({ emailSettings: '{"SMTPPort":587}' }).emailSettings).toEqual({ SMTPPort: 587 });
  });

  it("checks stackName, the name mm-email finds the stack by", () => {
    expect(config({}).stackName).toBe("MattermostEmail");
    expect(config({ stackName: "Staging-Email" }).stackName).toBe("Staging-Email");
    expect(() => config({ stackName: "staging_email" })).toThrow(
      /stackName: must be a CloudFormation stack name/,
    );
  });

  it("cdk synth prints the message alone, not a stack trace around it", () => {
    const node = join(root, "node_modules", ".bin", "node");
    const run = spawnSync(node, [join(root, "infra", "app.ts")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", CDK_CONTEXT_JSON: JSON.stringify({ maxRecieveCount: 5 }) },
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^Invalid context: unknown key maxRecieveCount \(did you mean maxReceiveCount\?\)/,
    );
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
