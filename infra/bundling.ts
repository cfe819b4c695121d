/**
 * How every function is bundled: one esbuild definition (its JS API), used by the stack (through
 * `functionCode`, CDK's local bundling), by the bundle test and by the benchmarks, so what is
 * tested and measured is what deploys.
 *
 * ESM for Node 24, minified, with source maps. Everything is bundled except the AWS SDK: in
 * Lambda the settings are read by the lite signed client (credentials are in the environment),
 * so the SDK, kept as a fallback for other environments, would only be weight to parse at every
 * cold start; the nodejs24.x runtime provides it.
 *
 * Each function is one file, `index.mjs`, whose entry (generated here) starts the first
 * invocation's I/O (functions/cold-start.ts: the SMTP connection and the SSM read, at once) and
 * exports the function's handler; the handoff is plain module state. Code splitting is on only so
 * that what a function loads lazily (html-to-text, for HTML-only notifications; the AWS SDK
 * fallback) lands in chunks of its own, parsed only when used.
 *
 * Measured and decided (BENCHMARKS.md): the function in a chunk of its own, imported after the
 * I/O has started so the I/O overlaps its parsing, cost the same as one file at 0 and 20 ms round
 * trips (1.00x to 1.02x), so the simpler shape won. `shape: "split"` keeps that alternative
 * buildable for the benchmark.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AssetHashType, DockerImage } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";
import type { FunctionName } from "../functions/create-function.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The handler Lambda calls: `handler` exported by the entry, index.mjs. */
export const LAMBDA_HANDLER = "index.handler";

const COMMON: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  external: ["@aws-sdk/*", "@smithy/*"],
  // Some dependencies still call require(); ESM output needs it defined.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  entryNames: "index",
  chunkNames: "[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  absWorkingDir: PROJECT_ROOT,
  metafile: true,
  logLevel: "warning",
};

export interface BundleOptions {
  /**
   * `single` (the default, as deployed): one file, the function imported statically. `split`: the
   * entry starts the cold start's I/O, then imports the function as a chunk (the measured
   * alternative, benchmark only).
   */
  shape?: "split" | "single";
}

/** The entry's source: what runs first in a cold start. */
export function entrySource(name: FunctionName, { shape = "single" }: BundleOptions = {}): string {
  const start = `import { startColdStartIo } from "./functions/cold-start.ts";\nstartColdStartIo(process.env);\n`;
  return shape === "split"
    ? `${start}export const { handler } = await import("./functions/${name}.ts");\n`
    : `${start}export { handler } from "./functions/${name}.ts";\n`;
}

/** Bundles one function into `outdir` (emptied first): index.mjs, its chunks and source maps. */
export function bundleFunction(name: FunctionName, outdir: string, options: BundleOptions = {}): Metafile {
  rmSync(outdir, { recursive: true, force: true });
  const result = buildSync({
    ...COMMON,
    stdin: {
      contents: entrySource(name, options),
      resolveDir: PROJECT_ROOT,
      sourcefile: `functions/${name}.entry.ts`,
      loader: "ts",
    },
    splitting: true,
    outdir,
  });
  return result.metafile as Metafile;
}

/** Bundles any module as one index.mjs with the same options (the benchmarks' baselines). */
export function bundleFile(
  entry: string,
  outdir: string,
  { external }: { external?: string[] } = {},
): Metafile {
  rmSync(outdir, { recursive: true, force: true });
  const result = buildSync({ ...COMMON, entryPoints: [entry], outdir, ...(external ? { external } : {}) });
  return result.metafile as Metafile;
}

/**
 * A function's code for CDK: bundled on this machine by `bundleFunction` (no Docker: esbuild
 * comes with `npm ci`). The asset is hashed by its output, so an unchanged bundle is not uploaded
 * again.
 */
export function functionCode(name: FunctionName): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never pulled, because local bundling always succeeds or throws.
      image: DockerImage.fromRegistry("scratch"),
      // CDK caches a bundle by its source path and its options written out as text, where
      // tryBundle does not appear: the function's name must, or all three share one bundle.
      environment: { FUNCTION: name },
      local: {
        tryBundle(outputDir) {
          bundleFunction(name, outputDir);
          return true;
        },
      },
    },
  });
}
