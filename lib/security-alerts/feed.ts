/**
 * The security bulletin feed: `GET {feed}/security` lists bulletins as
 * `[{ "id", "applies_to_version" }]`; `GET {feed}/bulletins/{id}` is one bulletin's HTML.
 * Every request is bounded in time and size, so a broken feed costs one logged failure.
 */
import * as z from "zod/mini";
import { describeIssues } from "../zod.ts";

export interface FeedLimits {
  /** Per request, headers and body. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest body read. Default 1 MiB. */
  maxBytes?: number;
}

export class FeedError extends Error {
  override readonly name = "FeedError";
  readonly url: string;
  constructor(message: string, url: string) {
    super(message);
    this.url = url;
  }
}

/** Ids become SSM parameter names and URL path segments: SSM's name characters, no dot-only names. */
export const BULLETIN_ID = /^(?!\.+$)[A-Za-z0-9_.-]{1,128}$/;

const BulletinListSchema = z.array(z.looseObject({ id: z.string(), applies_to_version: z.string() }));
export type Bulletin = { id: string; applies_to_version: string };

async function readBounded(
  url: string,
  { timeoutMs = 5000, maxBytes = 1024 * 1024 }: FeedLimits,
): Promise<string> {
  let response: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    response = await fetch(url, {
      signal,
      redirect: "error",
      headers: { accept: "application/json, text/html" },
    });
  } catch (error) {
    const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new FeedError(`GET ${url} failed: ${reason}`, url);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new FeedError(`GET ${url} answered ${response.status}, expected 200`, url);
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new FeedError(`GET ${url} body is ${declared} bytes, over the ${maxBytes}-byte limit`, url);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw new FeedError(`GET ${url} body is over the ${maxBytes}-byte limit`, url);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof FeedError) throw error;
    const reason = signal.aborted ? `body not received within ${timeoutMs} ms` : (error as Error).message;
    throw new FeedError(`GET ${url} failed: ${reason}`, url);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function fetchBulletinList(feedUrl: string, limits: FeedLimits = {}): Promise<Bulletin[]> {
  const url = `${feedUrl.replace(/\/+$/, "")}/security`;
  const text = await readBounded(url, limits);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FeedError(`GET ${url} did not return JSON`, url);
  }
  const parsed = BulletinListSchema.safeParse(json);
  if (!parsed.success) {
    const [first] = describeIssues(parsed.error, { root: "(root)" });
    throw new FeedError(`GET ${url} is not a list of { id, applies_to_version }: ${first}`, url);
  }
  return parsed.data.map(({ id, applies_to_version }) => ({ id, applies_to_version }));
}

export function fetchBulletinHtml(feedUrl: string, id: string, limits: FeedLimits = {}): Promise<string> {
  return readBounded(`${feedUrl.replace(/\/+$/, "")}/bulletins/${encodeURIComponent(id)}`, limits);
}
