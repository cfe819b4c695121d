/** A session that holds a fleet's lease (connection-gate.ts): its life is the lease's. */
import { describe, expect, it } from "vitest";
import { type ConnectionLease, isLeased, leasedSession, type SmtpSession } from "../../../lib/smtp/index.ts";

function fakes() {
  const order: string[] = [];
  const session: SmtpSession & { alive: boolean } = {
    alive: true,
    send: async () => ({ messageId: "<m>", response: "250 ok", accepted: [], rejected: [] }),
    checkEnvelope: async () => {},
    probe: async () => true,
    get usable() {
      return this.alive;
    },
    close: async () => {
      order.push("session closed");
      session.alive = false;
    },
  };
  const lease: ConnectionLease & { lost: boolean } = {
    lost: false,
    get held() {
      return !this.lost;
    },
    opened: () => {
      order.push("lease marked open");
    },
    refused: async () => {},
    release: async () => {
      order.push("lease released");
    },
    keepable: async () => true,
  };
  return { session, lease, order };
}

describe("a leased session", () => {
  it("is usable only while its session is and its lease is held", () => {
    const { session, lease } = fakes();
    const leased = leasedSession(session, lease);
    expect(isLeased(leased) && !isLeased(session)).toBe(true);
    expect(leased.usable).toBe(true);
    lease.lost = true; // lapsed during a freeze: another container may hold the connection now
    expect(leased.usable).toBe(false);
  });

  it("releases its lease once the connection is closed, not before: the provider counts it until then", async () => {
    const { session, lease, order } = fakes();
    await leasedSession(session, lease).close();
    expect(order).toEqual(["lease marked open", "session closed", "lease released"]);
  });
});
