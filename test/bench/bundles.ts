/**
 * The bundles the benchmarks run, built exactly as CDK builds them: the real stack's three
 * functions (NodejsFunction with infra/bundling.ts's options, entry and main.mjs), and, with the same options, the
 * obvious baseline of each and an empty handler.
 */
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import { BUNDLING } from "../../infra/bundling.ts";
import { deploymentConfig } from "../../infra/config.ts";
import { EmailStack, FUNCTION_NAMES, type FunctionName } from "../../infra/stack.ts";

export interface Bundle {
  path: string;
  bytes: number;
}

export interface BenchBundles {
  product: Record<FunctionName, Bundle>;
  obvious: Record<FunctionName, Bundle>;
  empty: Bundle;
}

export function buildBundles(): BenchBundles {
  const outdir = mkdtempSync(join(tmpdir(), "bench-cdk-"));
  const app = new App({ outdir, context: { appVersion: "10.5.1" } });
  const stack = new EmailStack(app, "Bench", {
    config: deploymentConfig((key) => app.node.tryGetContext(key)),
    env: { account: "123456789012", region: "eu-west-1" },
  });
  const baseline = new Stack(app, "Baseline", { env: { account: "123456789012", region: "eu-west-1" } });
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const baselineFn = (name: string) =>
    new nodejs.NodejsFunction(baseline, name, {
      entry: fileURLToPath(new URL(`obvious/${name}.ts`, import.meta.url)),
      projectRoot: root,
      depsLockFilePath: join(root, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      // The obvious bundle carries everything, the AWS SDK included.
      bundling: { ...BUNDLING, externalModules: [] },
    });
  const obviousFns = Object.fromEntries(FUNCTION_NAMES.map((n) => [n, baselineFn(n)])) as Record<
    FunctionName,
    nodejs.NodejsFunction
  >;
  const emptyFn = baselineFn("empty");
  const assembly = app.synth();

  const bundleOf = (s: Stack, fn: nodejs.NodejsFunction): Bundle => {
    const template = assembly.getStackByName(s.stackName).template as {
      Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }>;
    };
    const key =
      template.Resources[s.getLogicalId(fn.node.defaultChild as never)]?.Properties.Code?.S3Key ?? "";
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, "")}`);
    const path = join(dir, "index.mjs");
    // A product function is its entry plus main.mjs beside it (infra/bundling.ts).
    const main = join(dir, "main.mjs");
    return { path, bytes: statSync(path).size + (existsSync(main) ? statSync(main).size : 0) };
  };
  return {
    product: Object.fromEntries(
      FUNCTION_NAMES.map((n) => [n, bundleOf(stack, stack.functions[n])]),
    ) as Record<FunctionName, Bundle>,
    obvious: Object.fromEntries(FUNCTION_NAMES.map((n) => [n, bundleOf(baseline, obviousFns[n])])) as Record<
      FunctionName,
      Bundle
    >,
    empty: bundleOf(baseline, emptyFn),
  };
}
