/**
 * The bundles the benchmarks run, built by the same function CDK's bundling calls
 * (infra/bundling.ts): each product function as deployed (one file whose entry starts the cold
 * start's I/O), the same function code-split into a chunk imported after the I/O has started (the
 * measured alternative), and, with the same esbuild options, the obvious baseline of each and an
 * empty handler.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { FUNCTION_NAMES, type FunctionName } from "../../functions/create-function.ts";
import { bundleFile, bundleFunction } from "../../infra/bundling.ts";

export interface Bundle {
  /** The entry to import: index.mjs. */
  path: string;
  /** What a cold start parses before the first invocation: index.mjs and the chunks it imports statically. */
  bytes: number;
}

export interface BenchBundles {
  /** As deployed: one file per function, lazy imports in chunks. */
  product: Record<FunctionName, Bundle>;
  /** The measured alternative: the function in a chunk the entry imports after starting the I/O. */
  split: Record<FunctionName, Bundle>;
  obvious: Record<FunctionName, Bundle>;
  /** send-notification signing in with OAuth2 the obvious way: MSAL, then nodemailer's OAuth2. */
  obviousOAuth2: Bundle;
  /** send-notification with Transport ses through @aws-sdk/client-sesv2. */
  obviousSes: Bundle;
  empty: Bundle;
}

/** The entry's bytes and those of every chunk it imports statically (dynamic imports come later, if ever). */
function coldBytes(meta: Metafile): number {
  const outputs = new Map(Object.entries(meta.outputs).map(([file, out]) => [basename(file), out]));
  const seen = new Set<string>();
  const visit = (file: string): number => {
    const out = outputs.get(file);
    if (!out || seen.has(file)) return 0;
    seen.add(file);
    const statics = out.imports.filter((i) => i.kind === "import-statement" && !i.external);
    return out.bytes + statics.reduce((sum, i) => sum + visit(basename(i.path)), 0);
  };
  return visit("index.mjs");
}

export function buildBundles(): BenchBundles {
  const root = mkdtempSync(join(tmpdir(), "bench-bundles-"));
  const made = (dir: string, meta: Metafile): Bundle => ({
    path: join(dir, "index.mjs"),
    bytes: coldBytes(meta),
  });
  const fn = (name: FunctionName, shape: "split" | "single") => {
    const dir = join(root, `${shape}-${name}`);
    return made(dir, bundleFunction(name, dir, { shape }));
  };
  const baseline = (name: string, external?: string[], builtinShims = true) => {
    const dir = join(root, `obvious-${name}`);
    const entry = fileURLToPath(new URL(`obvious/${name}.ts`, import.meta.url));
    return made(dir, bundleFile(entry, dir, { ...(external ? { external } : {}), builtinShims }));
  };
  const each = (build: (name: FunctionName) => Bundle) =>
    Object.fromEntries(FUNCTION_NAMES.map((n) => [n, build(n)])) as Record<FunctionName, Bundle>;
  return {
    product: each((n) => fn(n, "single")),
    split: each((n) => fn(n, "split")),
    // The obvious bundle carries everything, the AWS SDK included.
    obvious: each((n) => baseline(n, [])),
    // MSAL's jsonwebtoken cannot run on the built-in shims (bundleFile says why): as esbuild bundles it.
    obviousOAuth2: baseline("send-notification-oauth2", [], false),
    obviousSes: baseline("send-notification-ses", []),
    empty: baseline("empty", []),
  };
}
