/**
 * How the context's keys are read beside their schema (infra/config.ts): which keys expect JSON
 * (an object or a list, given as a string with `-c`), which keys are ours to check (CDK keeps its
 * own in the same context), and which known key a misspelt one was meant to be.
 */
import type { z } from "zod";

/** The JSON kind a key's schema expects (`object`, `array`), or undefined for a plain value. */
export function jsonKind(schema: z.ZodType): "object" | "array" | undefined {
  let def = (schema as { def: { type: string; innerType?: z.ZodType } }).def;
  while ((def.type === "optional" || def.type === "default") && def.innerType)
    def = (def.innerType as unknown as { def: typeof def }).def;
  return def.type === "object" || def.type === "record"
    ? "object"
    : def.type === "array"
      ? "array"
      : undefined;
}

/** Keys CDK and its tools keep in context (`@aws-cdk/…`, `aws:cdk:…`, lookups, `acknowledged-issue-numbers`): never a plain camelCase word, as every key of ours is. */
export const isOwnKeyShape = (key: string) => /^[a-z][A-Za-z0-9]*$/.test(key);

/** The known key an unknown one was probably meant to be: same letters in another case, or at most two edits away. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const kept = row[j] as number;
        row[j] = Math.min(kept + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = kept;
      }
    }
    return row[b.length] as number;
  };
  const scored = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) }));
  const best = scored.sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 2 ? best.k : undefined;
}
