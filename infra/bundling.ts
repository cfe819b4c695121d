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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AssetHashType, DockerImage } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";
import type { FunctionName } from "../functions/create-function.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The handler Lambda calls: `handler` exported by the entry, index.mjs. */
export const LAMBDA_HANDLER = "index.handler";

/**
 * Node's built-in modules as the bundle imports them: each through a small module that takes the
 * CommonJS built-in (process.getBuiltinModule) and re-exports its plain properties. An ES import
 * of a built-in makes Node build a facade of every export, reading each one, and reading
 * node:http's WebSocket, MessageEvent and CloseEvent loads undici (node:crypto's webcrypto loads
 * WebCrypto): 11 to 12 ms of every first invocation spent on modules nothing uses (measured with
 * --cpu-prof; BENCHMARKS.md). The shims leave those getters out (UNREAD), so nothing reads them;
 * a dependency that imported one by name would fail the build ("No matching export"), not run.
 * Every other export is read at load, as the facade did. Written once per process, for the Node
 * that bundles (the runtime's major version).
 */
const UNREAD: Readonly<Record<string, readonly string[]>> = {
  "node:http": ["WebSocket", "CloseEvent", "MessageEvent"],
  "node:crypto": ["webcrypto", "subtle"],
  // Reading it turns every bundled root certificate into a PEM string.
  "node:tls": ["rootCertificates"],
};
let shims: Record<string, string> | undefined;
function builtinShims(): Record<string, string> {
  if (shims) return shims;
  const dir = mkdtempSync(join(tmpdir(), "builtin-shims-"));
  mkdirSync(dir, { recursive: true });
  const alias: Record<string, string> = {};
  // Loading every built-in here to list its exports would print their own warnings (sys and
  // punycode are deprecated, wasi experimental) into every synth: this process's, not a bundle's.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    writeShims(dir, alias);
  } finally {
    process.emitWarning = emitWarning;
  }
  shims = alias;
  return alias;
}

function writeShims(dir: string, alias: Record<string, string>): void {
  for (const name of builtinModules) {
    if (name.startsWith("_")) continue;
    const id = `node:${name}`;
    const mod = process.getBuiltinModule(id) as Record<string, unknown> | undefined;
    if (!mod) continue;
    const names = Object.keys(mod).filter((key) => {
      if (key === "default" || !/^[A-Za-z_$][\w$]*$/.test(key)) return false;
      if (UNREAD[id]?.includes(key)) return false;
      try {
        new Function("m", `const { ${key} } = m;`); // a reserved word cannot be a binding
        return true;
      } catch {
        return false;
      }
    });
    const file = join(dir, `${name.replaceAll("/", "__")}.mjs`);
    writeFileSync(
      file,
      `const m = process.getBuiltinModule(${JSON.stringify(id)});\nexport default m;\n${
        names.length ? `export const { ${names.join(", ")} } = m;\n` : ""
      }`,
    );
    alias[id] = file;
    alias[name] = file;
  }
}

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
    alias: builtinShims(),
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

/**
 * Bundles any module as one index.mjs with the same options (the benchmarks' baselines).
 * `builtinShims: false` leaves Node's built-ins as esbuild imports them: a CommonJS dependency that
 * takes a whole built-in as a value (`util.inherits(X, require("stream"))`, as jsonwebtoken's do)
 * cannot run on the shims, whose `require` answers the module's namespace.
 */
export function bundleFile(
  entry: string,
  outdir: string,
  { external, builtinShims: shims = true }: { external?: string[]; builtinShims?: boolean } = {},
): Metafile {
  rmSync(outdir, { recursive: true, force: true });
  const result = buildSync({
    ...COMMON,
    ...(shims ? { alias: builtinShims() } : {}),
    entryPoints: [entry],
    outdir,
    ...(external ? { external } : {}),
  });
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
