/**
 * Each function bundled exactly as CDK bundles it (NodejsFunction, local esbuild), then imported
 * by a fresh Node process, as Lambda would: a bundling break fails here, not in AWS.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { FUNCTION_NAMES } from "../../infra/stack.ts";
import { buildStack } from "./synth.ts";

const { stack, outdir, app } = buildStack({ bundle: true });
app.synth();
const template = Template.fromStack(stack);

function bundleOf(name: string): string {
  const logical = stack.getLogicalId(
    stack.functions[name as (typeof FUNCTION_NAMES)[number]].node.defaultChild as never,
  );
  const fn = template.findResources("AWS::Lambda::Function")[logical];
  const key: string = fn?.Properties.Code.S3Key;
  return join(outdir, `asset.${key.replace(/\.zip$/, "")}`, "index.mjs");
}

/** Runs `script` in a fresh Node process with the bundle's exports as `m`; returns its stdout. */
function inFreshNode(bundle: string, script: string): string {
  return execFileSync(
    process.execPath,
    ["--input-type=module", "-e", `const m = await import(${JSON.stringify(bundle)});\n${script}`],
    {
      env: {
        PATH: process.env.PATH,
        SETTINGS_PATH: "/bundle-test",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      },
      encoding: "utf8",
      timeout: 30_000,
    },
  );
}

describe("function bundles", () => {
  it.each(FUNCTION_NAMES)(
    "%s bundles to a tiny entry and main.mjs beside it, with source maps, exporting handler",
    (name) => {
      const bundle = bundleOf(name);
      const main = bundle.replace(/index\.mjs$/, "main.mjs");
      for (const file of [bundle, `${bundle}.map`, main, `${main}.map`])
        expect(existsSync(file), file).toBe(true);
      expect(statSync(bundle).size).toBeLessThan(20_000); // the entry: prefetch and preconnect only
      expect(statSync(main).size).toBeGreaterThan(100_000);
      expect(inFreshNode(bundle, "process.stdout.write(typeof m.handler);")).toBe("function");
    },
  );

  it("runs a bundled pipeline end to end (connection-test rejects malformed JSON before any I/O)", () => {
    const out = inFreshNode(
      bundleOf("connection-test"),
      `const res = await m.handler({ version: "2.0", headers: {}, body: "{", isBase64Encoded: false,
         requestContext: { http: { method: "POST" } } }, { awsRequestId: "bundle-1", getRemainingTimeInMillis: () => 1000 });
       process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(res.body) }));`,
    );
    const result = JSON.parse(out.split("\n").filter(Boolean).pop() ?? "{}");
    expect(result.status).toBe(400);
    expect(result.body.error).toMatch(/^Request body is not valid JSON/);
  });
});
