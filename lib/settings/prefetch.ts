/**
 * Cold-start overlap: the settings' SSM read can start while the rest of a function's code is
 * still loading. `prefetchStoredParameters` begins it (when the environment holds credentials, as
 * in Lambda); the SSM store's first read takes the result instead of asking again. The handoff is
 * this module's own state: the bundler puts it in a chunk that the entry and the function share
 * (infra/bundling.ts), so both see the same one.
 */
import { liteSsmApi, type StoredParameter } from "../aws-ssm/index.ts";
import {
  readStoredParameters,
  readsTransportSettings,
  type StoredNamesOptions,
  settingsRootPath,
} from "./parameters.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** A prefetch older than this is not used: the first invocation came long after init. */
const MAX_AGE_MS = 10_000;

let pending:
  | { root: string; transportSettings: boolean; at: number; result: Promise<StoredParameter[]> }
  | undefined;

/** Starts reading `<SETTINGS_PATH>/…` now. No-op without credentials in the environment. */
export function prefetchStoredParameters(env: Env): void {
  const api = liteSsmApi(env);
  if (!api) return;
  let root: string;
  try {
    root = settingsRootPath(env);
  } catch {
    return; // the store reports a bad SETTINGS_PATH on first use
  }
  const transportSettings = readsTransportSettings(env);
  const result = readStoredParameters(api, root, { transportSettings });
  result.catch(() => {}); // a failed prefetch is simply not used
  pending = { root, transportSettings, at: Date.now(), result };
}

/** The prefetched read for this root and these names, once, if it is recent. */
export function takePrefetched(
  root: string,
  { transportSettings = false }: StoredNamesOptions = {},
): Promise<StoredParameter[]> | undefined {
  const p = pending;
  pending = undefined;
  return p && p.root === root && p.transportSettings === transportSettings && Date.now() - p.at <= MAX_AGE_MS
    ? p.result
    : undefined;
}
