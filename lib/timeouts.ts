/**
 * One shape for "it took too long", whatever timed out (DNS, TCP, TLS, an SSM request): an Error
 * with code ETIMEDOUT, as Node's own socket errors carry, so classifiers need one test.
 */
export type TimeoutError = Error & { code: "ETIMEDOUT" };

export function timeoutError(message: string): TimeoutError {
  return Object.assign(new Error(message), { code: "ETIMEDOUT" as const });
}

export const isTimeout = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === "ETIMEDOUT";

/** `promise`, or a TimeoutError (`${what} timed out`) after `ms`; `onTimeout` cleans up what was waiting. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout?.();
          reject(timeoutError(`${what} timed out`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
