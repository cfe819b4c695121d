/**
 * Cold-start overlap: the settings' SSM read can start while the rest of a function's code is
 * still loading. `prefetchStoredParameters` begins it (when the environment holds credentials, as
 * in Lambda); the SSM store's first read takes the result instead of asking again.
 */
import { liteSsmApi } from "./ssm-api.ts";
import { readStoredParameters, type StoredParameter, settingsRootPath } from "./ssm-read.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** A prefetch older than this is not used: the first invocation came long after init. */
const MAX_AGE_MS = 10_000;

type Pending = { root: string; at: number; result: Promise<StoredParameter[]> };
/**
 * On globalThis: a function's entry bundle and its main bundle each carry a copy of this module,
 * and the entry's prefetch must reach the main's store.
 */
const SLOT = Symbol.for("mattermost-email.settings-prefetch");
const slots = globalThis as unknown as Record<symbol, Pending | undefined>;

/** Starts reading `<SETTINGS_PATH>/…` now. No-op without credentials, or with SETTINGS_PREFETCH=off. */
export function prefetchStoredParameters(env: Env): void {
  if (env.SETTINGS_PREFETCH === "off") return;
  const api = liteSsmApi(env);
  if (!api) return;
  let root: string;
  try {
    root = settingsRootPath(env);
  } catch {
    return; // the store reports a bad SETTINGS_PATH on first use
  }
  const result = readStoredParameters(api, root);
  result.catch(() => {}); // a failed prefetch is simply not used
  slots[SLOT] = { root, at: Date.now(), result };
}

/** The prefetched read for this root, once, if it is recent. */
export function takePrefetched(root: string): Promise<StoredParameter[]> | undefined {
  const p = slots[SLOT];
  slots[SLOT] = undefined;
  return p && p.root === root && Date.now() - p.at <= MAX_AGE_MS ? p.result : undefined;
}
