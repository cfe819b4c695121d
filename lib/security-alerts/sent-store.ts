/**
 * Which bulletins were mailed, kept in SSM under `<root>/SecurityAlerts/Sent/<id>`.
 *
 * SSM has no compare-and-swap, but PutParameter without Overwrite fails when the name exists:
 * that is the lock. A run first claims a bulletin (value `sending …`); only the run whose create
 * succeeded sends it, then overwrites the claim with `sent …`. A failed send releases the claim so
 * the next run tries again. A claim left by a run that died is taken over after `staleAfterMs`
 * through a create-only name unique to that claim (`<root>/SecurityAlerts/Takeover/<id>.<token>`),
 * so two runs cannot both take it over.
 */
import type { SsmApi } from "../settings/index.ts";

/** Both the SDK's errors and the lite API's carry the AWS error code as their name. */
const isAws = (error: unknown, code: string) => (error as { name?: string } | null)?.name === code;

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
  const nameOf = (id: string) => `${root}/SecurityAlerts/Sent/${id}`;
  const marker = (state: Marker["state"], token: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ state, token, at: new Date(now()).toISOString(), ...extra });
  const put = (name: string, value: string, overwrite: boolean) =>
    api.call("PutParameter", { Name: name, Value: value, Type: "String", Overwrite: overwrite });

  /**
   * Create-only write: true when this call created it. A retried request whose first attempt
   * succeeded but lost its reply answers ParameterAlreadyExists; reading the value back tells
   * that apart from another run's write (every value written here carries this run's token).
   */
  async function createOnly(name: string, value: string, token: string): Promise<boolean> {
    try {
      await put(name, value, false);
      return true;
    } catch (error) {
      if (!isAws(error, "ParameterAlreadyExists")) throw error;
      return (await readRaw(name))?.includes(token) ?? false;
    }
  }

  async function readRaw(name: string): Promise<string | undefined> {
    try {
      const out = await api.call<{ Parameter?: { Value?: string } }>("GetParameter", { Name: name });
      return out.Parameter?.Value;
    } catch (error) {
      if (isAws(error, "ParameterNotFound")) return undefined;
      throw error;
    }
  }

  async function read(name: string): Promise<Marker | undefined> {
    const value = await readRaw(name);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as Marker;
    } catch {
      // Written by hand (any value means "sent"): an operator can mark a bulletin done.
      return { state: "sent", token: "", at: "" };
    }
  }

  return {
    async claim(id) {
      const token = crypto.randomUUID();
      if (await createOnly(nameOf(id), marker("sending", token), token)) return { claimed: true, token };
      const existing = await read(nameOf(id));
      if (!existing) {
        // Released between our create and our read: try once more, then leave it to the next run.
        return (await createOnly(nameOf(id), marker("sending", token), token))
          ? { claimed: true, token }
          : { claimed: false, reason: "in-progress" };
      }
      if (existing.state === "sent") return { claimed: false, reason: "sent", since: existing.at };
      const age = now() - Date.parse(existing.at);
      if (!(age > staleAfterMs)) return { claimed: false, reason: "in-progress", since: existing.at };
      // Only one run can create the takeover name for this particular stale claim.
      if (!(await createOnly(`${root}/SecurityAlerts/Takeover/${id}.${existing.token}`, token, token))) {
        return { claimed: false, reason: "in-progress", since: existing.at };
      }
      await put(nameOf(id), marker("sending", token), true);
      return { claimed: true, token };
    },

    async markSent(id, token, detail) {
      await put(nameOf(id), marker("sent", token, { recipients: detail.recipients }), true);
    },

    async release(id, token) {
      const existing = await read(nameOf(id));
      if (existing?.state === "sending" && existing.token === token) {
        await api.call("DeleteParameter", { Name: nameOf(id) }).catch((error: unknown) => {
          if (!isAws(error, "ParameterNotFound")) throw error;
        });
      }
    },
  };
}
