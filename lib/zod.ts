/**
 * zod/mini, zod 4's tree-shakable functional API, is the schema library of everything the
 * functions bundle: full zod was two thirds of a function's bundle, and a bundle's size is its
 * cold start (BENCHMARKS.md). Modules import `* as z from "zod/mini"` themselves (a re-exported
 * namespace could not be tree-shaken) and this module once, for English messages.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export interface DescribeIssuesOptions {
  /** What to call the whole input when a rule is about it rather than a field ("body"). Default: nothing. */
  root?: string;
  /** Put before every line ("detail." for a notification inside an EventBridge envelope). */
  prefix?: string;
}

/**
 * Every rule broken, each naming its field: `to: must be an email address`. The one formatter of
 * schema issues (zod and zod/mini issues share this shape), so every error reads alike.
 */
export function describeIssues(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  { root, prefix = "" }: DescribeIssuesOptions = {},
): string[] {
  return error.issues.map((i) => {
    const where = i.path.length ? i.path.map(String).join(".") : root;
    return `${prefix}${where ? `${where}: ` : ""}${i.message}`;
  });
}
