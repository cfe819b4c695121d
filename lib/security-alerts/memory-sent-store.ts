/**
 * The sent-marker store for a single process (the local run): the same claim, mark and release
 * semantics as the SSM store, held in memory.
 */
import type { ClaimResult, SentStore } from "./sent-store.ts";

export function memorySentStore(): SentStore & {
  entries(): Array<{ id: string; state: string; at: string }>;
} {
  const markers = new Map<string, { state: "sending" | "sent"; token: string; at: string }>();
  return {
    async claim(id): Promise<ClaimResult> {
      const existing = markers.get(id);
      if (existing)
        return {
          claimed: false,
          reason: existing.state === "sent" ? "sent" : "in-progress",
          since: existing.at,
        };
      const token = crypto.randomUUID();
      markers.set(id, { state: "sending", token, at: new Date().toISOString() });
      return { claimed: true, token };
    },
    async markSent(id, token) {
      markers.set(id, { state: "sent", token, at: new Date().toISOString() });
    },
    async release(id, token) {
      if (markers.get(id)?.token === token && markers.get(id)?.state === "sending") markers.delete(id);
    },
    entries: () => [...markers].map(([id, m]) => ({ id, state: m.state, at: m.at })),
  };
}
