/**
 * zod/mini, zod 4's tree-shakable functional API, is the schema library of everything the
 * functions bundle: full zod was two thirds of a function's bundle, and a bundle's size is its
 * cold start (BENCHMARKS.md). Modules import `* as z from "zod/mini"` themselves (a re-exported
 * namespace could not be tree-shaken) and this module once, for English messages.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

/** Every rule broken, each naming its field: `to: must be an email address`. */
export function describeIssues(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}): string[] {
  return error.issues.map((i) =>
    i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message,
  );
}
