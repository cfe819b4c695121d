/**
 * How every function is bundled, in one place for CDK and for the second bundle it needs.
 *
 * ESM for Node 24, minified, with source maps. Everything is bundled except the AWS SDK: in
 * Lambda the settings are read by the lite signed client (credentials are in the environment),
 * so the SDK, kept as a fallback for other environments, would only be weight to parse at every
 * cold start; the nodejs24.x runtime provides it.
 *
 * Each function is two files: `index.mjs`, CDK's bundle of the tiny entry (handler.ts), and
 * `main.mjs`, the function itself, built beside it by an after-bundling hook. The entry starts the
 * cold start's I/O before main.mjs is parsed (BENCHMARKS.md).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";

const EXTERNAL = ["@aws-sdk/*", "@smithy/*"];
// Some dependencies still call require(); ESM output needs it defined.
const BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: "node24",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  externalModules: EXTERNAL,
  banner: BANNER,
};

const SCRIPT = fileURLToPath(new URL("bundle-main.ts", import.meta.url));

/** CDK's options for one function: BUNDLING, plus the hook that builds its main.mjs. */
export function bundlingFor(name: string): nodejs.BundlingOptions {
  return {
    ...BUNDLING,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      // process.execPath: the Node running the synth (Node 24, which runs TypeScript itself).
      afterBundling: (inputDir, outputDir) => [
        `"${process.execPath}" "${SCRIPT}" "${inputDir}/functions/${name}/main.ts" "${outputDir}/main.mjs"`,
      ],
    },
  };
}

/** The esbuild call for main.mjs, with the same options CDK passes for index.mjs. */
export function buildMain(entry: string, outfile: string): void {
  const esbuild = fileURLToPath(new URL("../node_modules/.bin/esbuild", import.meta.url));
  execFileSync(esbuild, [
    entry,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node24",
    "--minify",
    "--sourcemap",
    "--sources-content=false",
    "--main-fields=module,main",
    ...EXTERNAL.map((e) => `--external:${e}`),
    `--banner:js=${BANNER}`,
    `--outfile=${outfile}`,
    "--log-level=warning",
  ]);
}
