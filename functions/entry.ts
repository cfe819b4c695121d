/**
 * Loads a function's main module beside its entry: main.ts when running from source (tests, the
 * local run), main.mjs in a bundle (infra/bundling.ts builds it next to index.mjs). The path is
 * computed, so esbuild leaves this import alone instead of inlining main into the entry.
 */
export function loadMain<T>(entryUrl: string): Promise<T> {
  const file = entryUrl.endsWith(".ts") ? "./main.ts" : "./main.mjs";
  return import(new URL(file, entryUrl).href) as Promise<T>;
}
