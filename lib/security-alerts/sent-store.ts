/**
 * Which bulletins were mailed, kept in SSM under `<root>/SecurityAlerts/Sent/<id>`.
 *
 * SSM has no compare-and-swap, but PutParameter without Overwrite fails when the name exists:
 * that is the lock. A run first claims a bulletin (value `sending …`); only the run whose create
 * succeeded sends it, then overwrites the claim with `sent …`. A failed send releases the claim so
 * the next run tries again. A claim left by a run that died is taken over after `staleAfterMs`
 * through a create-only name unique to that claim (`<root>/SecurityAlerts/Takeover/<id>.<token>`),
 * so two runs cannot both take it over; the takeover names are removed once the claim ends, so
 * the account's parameter count stays flat.
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
  | { claimed: true; token: string }
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
    try {
      return JSON.parse(value) as Marker;
    } catch {
      // Written by hand (any value means "sent"): an operator can mark a bulletin done.
      return { state: "sent", token: "", at: "" };
    }
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
   * before it wrote the claim (a throttled write, a timeout), its takeover turns stale in turn and
   * the next run takes over `Takeover/<id>.<its token>`. Every step has exactly one winner, and
   * no step can lock a bulletin out for good, whichever write failed.
   */
  async function takeOver(id: string, token: string, holder: { token: string; at: string }) {
    const passed: string[] = [];
    for (let step = 0; step < MAX_TAKEOVER_CHAIN; step++) {
      if (!isStale(holder.at)) return { claimed: false as const, since: holder.at, passed };
      const name = takeoverName(id, holder.token);
      passed.push(name);
      const value = JSON.stringify({ token, at: new Date(now()).toISOString() });
      if (await createOnly(name, value, token)) return { claimed: true as const, passed };
      const next = await getParameterValue(api, name);
      const parsed = next === undefined ? undefined : safeJson<{ token?: string; at?: string }>(next);
      if (!parsed?.token || !parsed.at) return { claimed: false as const, since: holder.at, passed };
      holder = { token: parsed.token, at: parsed.at };
    }
    return { claimed: false as const, since: holder.at, passed };
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
      if (!taken.claimed) return { claimed: false, reason: "in-progress", since: taken.since };
      chains.set(id, taken.passed);
      await putParameter(api, nameOf(id), marker("sending", token));
      return { claimed: true, token };
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

/** How many dead runs in a row a takeover follows before it leaves the bulletin to the next run. */
const MAX_TAKEOVER_CHAIN = 8;

function safeJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
