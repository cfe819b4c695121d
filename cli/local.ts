/**
 * The --local backend: the local run's HTTP routes (local/product.ts, `npm start`) in place of
 * AWS: its settings file in place of SSM, its queue and dead-letter list in place of SQS. Only
 * what those routes serve is available; a command that needs more says so.
 */
import { CliError, EXIT, usageError } from "./output.ts";

export const DEFAULT_LOCAL_URL = "http://127.0.0.1:3025";

export interface LocalAnswer {
  status: number;
  body: unknown;
}

export interface LocalRun {
  url: string;
  get(path: string): Promise<LocalAnswer>;
  post(path: string, body: unknown): Promise<LocalAnswer>;
  put(path: string, body: unknown): Promise<LocalAnswer>;
  delete(path: string): Promise<LocalAnswer>;
}

export function localRun(url: string): LocalRun {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    throw usageError(
      `--local ${JSON.stringify(url)} is not an http:// URL: pass --local alone for the local run at ${DEFAULT_LOCAL_URL}, or --local http://127.0.0.1:PORT`,
    );
  }
  const base = url.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<LocalAnswer> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : {
              body: typeof body === "string" ? body : JSON.stringify(body),
              headers: { "content-type": "application/json" },
            }),
      });
    } catch (error) {
      throw new CliError(
        EXIT.aws,
        `The local run at ${base} did not answer (${(error as Error).cause ?? (error as Error).message}): start it with npm start, or pass --local URL`,
      );
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body: parsed };
  };
  return {
    url: base,
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    put: (path, body) => call("PUT", path, body),
    delete: (path) => call("DELETE", path),
  };
}

/** The `error` of a local answer that failed, as one line. */
export function localError(answer: LocalAnswer, what: string): CliError {
  const message =
    typeof answer.body === "object" && answer.body !== null && "error" in answer.body
      ? String((answer.body as { error: unknown }).error)
      : String(answer.body);
  return new CliError(answer.status >= 500 ? EXIT.failed : EXIT.usage, `${what}: ${message}`);
}
