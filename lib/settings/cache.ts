/**
 * Settings are loaded once per Lambda container and reused by warm invocations for a while.
 * Concurrent callers share one load; when a refresh fails, the last good value keeps serving
 * (with a warning) and the refresh is retried after a short pause, not on every invocation.
 */
import { type Logger, silentLogger } from "../logger.ts";

export const DEFAULT_CACHE_SECONDS = 60;

export interface CachedLoaderOptions<T> {
  load: () => Promise<T>;
  /** How long a loaded value is fresh. 0 loads on every call. Default 60 (DEFAULT_CACHE_SECONDS). */
  ttlSeconds?: number;
  /** After a failed refresh, serve the stale value this long before trying again. Default min(ttl, 10 s). */
  retryAfterFailureSeconds?: number;
  /** Milliseconds clock; injectable for tests. Default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export interface CachedLoader<T> {
  get(): Promise<T>;
  /** Forget the value: the next get() loads. */
  invalidate(): void;
}

export function createCachedLoader<T>(options: CachedLoaderOptions<T>): CachedLoader<T> {
  const ttlMs = (options.ttlSeconds ?? DEFAULT_CACHE_SECONDS) * 1000;
  const retryMs = (options.retryAfterFailureSeconds ?? Math.min(ttlMs / 1000, 10)) * 1000;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  let last: { value: T; freshUntil: number } | undefined;
  let inflight: Promise<T> | undefined;

  const refresh = (): Promise<T> => {
    inflight ??= options
      .load()
      .then(
        (value) => {
          last = { value, freshUntil: now() + ttlMs };
          return value;
        },
        (error: unknown) => {
          if (!last) throw error;
          last.freshUntil = now() + retryMs;
          logger.warn("Settings refresh failed; serving the last good settings", {
            error: error instanceof Error ? error.message : String(error),
            retryInSeconds: retryMs / 1000,
          });
          return last.value;
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  return {
    get: () => (last && now() < last.freshUntil ? Promise.resolve(last.value) : refresh()),
    invalidate: () => {
      last = undefined;
    },
  };
}
