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
      if (
        !(await createOnly(`${root}/${SENT_MARKER_FOLDERS.takeover}/${id}.${existing.token}`, token, token))
      ) {
        return { claimed: false, reason: "in-progress", since: existing.at };
      }
      await putParameter(api, nameOf(id), marker("sending", token));
      return { claimed: true, token };
    },

    async markSent(id, token, detail) {
      await putParameter(api, nameOf(id), marker("sent", token, { recipients: detail.recipients }));
    },

    async release(id, token) {
      const existing = await read(nameOf(id));
      if (existing?.state === "sending" && existing.token === token) {
        await deleteParameter(api, nameOf(id));
      }
    },
  };
}
