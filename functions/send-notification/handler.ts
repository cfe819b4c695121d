/**
 * The Lambda entry, tiny on purpose: it starts the cold start's I/O (../prefetch.ts) before the
 * function itself (main.ts, bundled beside this file as main.mjs) is even parsed, so the SSM read
 * and the SMTP server's greeting delay pass while the code loads. See BENCHMARKS.md.
 */
import "../prefetch.ts";
import { loadMain } from "../entry.ts";

type Main = typeof import("./main.ts");
// Awaited during init: the function's code is loaded before the first invocation (and a broken
// bundle fails the init, so Lambda replaces the container), while prefetch.ts's I/O runs.
const main = await loadMain<Main>(import.meta.url);

export const handler: Main["handler"] = (event, context) => main.handler(event, context);
