/**
 * Which bulletins were mailed, kept in SSM under `<root>/SecurityAlerts/Sent/<id>`.
 *
 * SSM has no compare-and-swap, but PutParameter without Overwrite fails when the name exists:
 * that is the lock. A run first claims a bulletin (value `sending …`); only the run whose create
 * succeeded sends it, then overwrites the claim with `sent …`. A failed send releases the claim so
 * the next run tries again. A claim left by a run that died is taken over after `staleAfterMs`
 * through a create-only name unique to that claim (`<root>/SecurityAlerts/Takeover/<id>.<token>`),
 * so two runs cannot both take it over; the takeover names are removed once the claim ends, so
 * the account's parameter count stays flat. The winner's claim write resets that chain (a failed
 * one is undone), so only runs dying between the two writes lengthen it; a stale claim that cannot
 * be taken over throws StaleClaimError, failing the run so its alarm fires (issue 19: after 8 such
 * runs every run used to say "in progress" and succeed, the bulletin never sent). Kept in SSM, not
 * a DynamoDB conditional write: the markers of earlier versions stay the truth (docs/functions.md).
 * One file over 250 lines because the claim, its takeover and its release are one protocol over
 * the same three names, each step reading what the others wrote.
 */
import {
  createParameter,
  deleteParameter,
  getParameterValue,
  putParameter,
  type SsmApi,
} from "../aws-ssm/index.ts";

/**
 * Where the markers live, relative to the settings root. The stack grants the alert check these
 * folders alone (infra), so the names have this one home.
 */
export const SENT_MARKER_FOLDERS = {
  sent: "SecurityAlerts/Sent",
  takeover: "SecurityAlerts/Takeover",
} as const;

export type ClaimResult =
  /** `tookOver`: when the stale claim this one replaced was made (a run died holding it). */
  | { claimed: true; token: string; tookOver?: string }
  | { claimed: false; reason: "sent" | "in-progress"; since?: string };

export interface SentStore {
  claim(id: string): Promise<ClaimResult>;
  markSent(id: string, token: string, detail: { recipients: number }): Promise<void>;
  release(id: string, token: string): Promise<void>;
}

interface Marker {
  state: "sending" | "sent";
  token: string;
  at: string;
  /** On a sent marker: takeover names a run could not remove, for a later run to remove. */
  takeovers?: string[];
}

export interface SsmSentStoreOptions {
  api: SsmApi;
  root: string;
  /** A claim older than this belongs to a run that died. Default 15 minutes, Lambda's longest run. */
  staleAfterMs?: number;
  now?: () => number;
}

export function ssmSentStore({
  api,
  root,
  staleAfterMs = 15 * 60_000,
  now = Date.now,
}: SsmSentStoreOptions): SentStore {
  const nameOf = (id: string) => `${root}/${SENT_MARKER_FOLDERS.sent}/${id}`;
  const marker = (state: Marker["state"], token: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ state, token, at: new Date(now()).toISOString(), ...extra });

  /**
   * Create-only write: true when this call created it. A retried request whose first attempt
   * succeeded but lost its reply answers ParameterAlreadyExists; reading the value back tells
   * that apart from another run's write (every value written here carries this run's token).
   */
  async function createOnly(name: string, value: string, token: string): Promise<boolean> {
    if (await createParameter(api, name, value)) return true;
    return (await getParameterValue(api, name))?.includes(token) ?? false;
  }

  async function read(name: string): Promise<Marker | undefined> {
    const value = await getParameterValue(api, name);
    if (value === undefined) return undefined;
    const parsed = safeJson<Partial<Marker>>(value);
    const takeovers = Array.isArray(parsed?.takeovers)
      ? parsed.takeovers.filter((n): n is string => typeof n === "string")
      : undefined;
    const fields = {
      token: String(parsed?.token ?? ""),
      at: String(parsed?.at ?? ""),
      ...(takeovers ? { takeovers } : {}),
    };
    if (parsed?.state === "sending" && typeof parsed.token === "string" && typeof parsed.at === "string") {
      return { ...parsed, state: "sending", ...fields };
    }
    // A sent marker, or written by hand (any value means "sent", JSON or not, `1` or `{}`
    // alike): an operator can mark a bulletin done.
    return { ...(parsed?.state === "sent" ? parsed : {}), state: "sent", ...fields };
  }

  const takeoverName = (id: string, staleToken: string) =>
    `${root}/${SENT_MARKER_FOLDERS.takeover}/${id}.${staleToken}`;
  const isStale = (at: string) => !(now() - Date.parse(at) <= staleAfterMs);
  /** Takeover names each claim of this store passed through, to remove once the claim ends. */
  const chains = new Map<string, string[]>();

  /** Best effort: a name left behind is listed on the sent marker and removed by a later run. */
  async function removeAll(names: readonly string[]): Promise<string[]> {
    const left: string[] = [];
    for (const name of names) await deleteParameter(api, name).catch(() => left.push(name));
    return left;
  }

  /**
   * A stale claim is taken over through a chain of create-only names: `Takeover/<id>.<token>`
   * for the token that holds it. Its value names the run that took it over; should that run die
   * before it wrote the claim (a timeout, a throttled write it could not undo), its takeover turns
   * stale in turn and the next run takes over `Takeover/<id>.<its token>`. Every step has exactly
   * one winner. The chain is reset by the winner's claim write (the claim then names the winner,
   * so the next takeover starts a chain of its own), so it only grows while runs keep dying
   * between the two writes, each of them failing loudly. A run follows it to its end, one read a
   * link; a stale end that cannot be taken over (a link without a token, a loop, a chain past
   * MAX_TAKEOVER_CHAIN) throws StaleClaimError: the run fails and its alarm fires, where it used
   * to pass for "in progress" and lock the bulletin out in silence (issue 19).
   */
  async function takeOver(id: string, token: string, claim: { token: string; at: string }) {
    const passed: string[] = [];
    const seen = new Set([claim.token]);
    let holder = claim;
    for (;;) {
      if (!isStale(holder.at)) return { claimed: false as const, since: holder.at, passed };
      if (passed.length >= MAX_TAKEOVER_CHAIN) {
        throw new StaleClaimError(
          id,
          claim.at,
          `its takeover chain is ${passed.length} runs long, the most followed`,
        );
      }
      const name = takeoverName(id, holder.token);
      passed.push(name);
      let value = await getParameterValue(api, name);
      if (value === undefined) {
        if (await createParameter(api, name, JSON.stringify({ token, at: new Date(now()).toISOString() }))) {
          return { claimed: true as const, name, passed };
        }
        // Lost the race for it, or created it through a retry whose first reply was lost.
        value = await getParameterValue(api, name);
        if (value?.includes(token)) return { claimed: true as const, name, passed };
        // Created and removed since: the claim ended (sent or released) while this run looked.
        if (value === undefined) return { claimed: false as const, since: undefined, passed };
      }
      const next = safeJson<{ token?: unknown; at?: unknown }>(value);
      if (typeof next?.token !== "string" || typeof next.at !== "string" || !next.token) {
        throw new StaleClaimError(id, claim.at, `${name} names no run that holds it`);
      }
      if (seen.has(next.token))
        throw new StaleClaimError(id, claim.at, `its takeover chain loops at ${name}`);
      seen.add(next.token);
      holder = { token: next.token, at: next.at };
    }
  }

  return {
    async claim(id) {
      const token = crypto.randomUUID();
      if (await createOnly(nameOf(id), marker("sending", token), token)) {
        chains.set(id, []);
        return { claimed: true, token };
      }
      const existing = await read(nameOf(id));
      if (!existing) {
        // Released between our create and our read: try once more, then leave it to the next run.
        if (await createOnly(nameOf(id), marker("sending", token), token)) {
          chains.set(id, []);
          return { claimed: true, token };
        }
        return { claimed: false, reason: "in-progress" };
      }
      if (existing.state === "sent") {
        if (existing.takeovers?.length) {
          // A run that marked it sent could not remove these: finish its cleanup.
          const left = await removeAll(existing.takeovers);
          if (left.length < existing.takeovers.length) {
            await putParameter(api, nameOf(id), JSON.stringify({ ...existing, takeovers: left }));
          }
        }
        return { claimed: false, reason: "sent", since: existing.at };
      }
      const taken = await takeOver(id, token, { token: existing.token, at: existing.at });
      if (!taken.claimed) {
        return { claimed: false, reason: "in-progress", ...(taken.since ? { since: taken.since } : {}) };
      }
      // Only the claim the chain was walked from may be replaced: a run that stalled on the way
      // may find the chain removed by a run that has since taken over, sent it and cleaned up.
      const current = await read(nameOf(id));
      if (current?.state !== "sending" || current.token !== existing.token) {
        await deleteParameter(api, taken.name).catch(() => undefined);
        return current?.state === "sent"
          ? { claimed: false, reason: "sent", since: current.at }
          : { claimed: false, reason: "in-progress" };
      }
      // The names to remove once this claim ends, on the claim itself: should this run die too,
      // the run that takes over from it removes them.
      const names = [...new Set([...(existing.takeovers ?? []), ...taken.passed])];
      try {
        await putParameter(api, nameOf(id), marker("sending", token, { takeovers: newest(names) }));
      } catch (error) {
        // Undo the takeover, so a failed claim write does not lengthen the chain: the next run
        // takes over the same claim again. Should the undo fail too, the chain is one longer.
        await deleteParameter(api, taken.name).catch(() => undefined);
        throw error;
      }
      chains.set(id, names);
      return { claimed: true, token, tookOver: existing.at };
    },

    async markSent(id, token, detail) {
      const left = await removeAll(chains.get(id) ?? []);
      await putParameter(
        api,
        nameOf(id),
        marker("sent", token, { recipients: detail.recipients, ...(left.length ? { takeovers: left } : {}) }),
      );
      chains.delete(id);
    },

    async release(id, token) {
      const existing = await read(nameOf(id));
      if (existing?.state === "sending" && existing.token === token) {
        // The chain first: should the claim's removal then fail, it turns stale and is taken over.
        await removeAll(chains.get(id) ?? []);
        await deleteParameter(api, nameOf(id));
      }
      chains.delete(id);
    },
  };
}

/**
 * A claim older than its lease that this run cannot take over. Thrown rather than reported as
 * "in progress", so the run fails and the function's errors alarm fires: an operator must look.
 */
export class StaleClaimError extends Error {
  override readonly name = "StaleClaimError";
  constructor(id: string, since: string, why: string) {
    super(
      `The claim on security bulletin ${id} is older than its lease (since ${since}) and cannot be taken over: ${why}. ` +
        `Delete its SecurityAlerts/Sent/${id} and SecurityAlerts/Takeover/${id}.* parameters for the next run to send it, ` +
        "or put any value in Sent to mark it done",
    );
  }
}

/**
 * The longest takeover chain a run follows (one read a link): a chain only grows by a run that
 * died between its takeover and its claim write, each failing loudly, so one this long means the
 * alarm went unheeded for weeks of runs; past it the claim fails (StaleClaimError) rather than
 * costing every run more reads.
 */
export const MAX_TAKEOVER_CHAIN = 32;

/**
 * The newest names that fit in a claim's value, which SSM caps at 4 KB: the older ones of a very
 * long chain are then removed by this run alone (when its claim ends), not by its successor.
 */
function newest(names: readonly string[], budget = 3_000): string[] {
  const kept: string[] = [];
  for (let i = names.length - 1, used = 0; i >= 0; i--) {
    used += (names[i] ?? "").length + 3;
    if (used > budget) break;
    kept.unshift(names[i] ?? "");
  }
  return kept;
}

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
