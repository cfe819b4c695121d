/**
 * The schema library the product's bundles load: zod/mini, zod 4's tree-shakable functional
 * API, a small fraction of full zod's size (full zod was two thirds of a function's bundle, and a
 * bundle's size is its cold start: BENCHMARKS.md). English messages are configured once here.
 */

import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export { z };

/** Every rule broken, each naming its field: `to: must be an email address`. */
export function describeIssues(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}): string[] {
  return error.issues.map((i) =>
    i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message,
  );
}
