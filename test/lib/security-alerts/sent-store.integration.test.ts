/**
 * The sent-store's claim protocol against moto_server, with a proxy in front that answers
 * ThrottlingException to one chosen request: whichever write of a claim fails, the bulletin is
 * sent once its lease is over (never locked out), and the takeover parameters are removed, so
 * repeated runs leave the parameter count flat.
 */
import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { liteSsmApi } from "../../../lib/aws-ssm/index.ts";
import { ssmSentStore } from "../../../lib/security-alerts/index.ts";
import { type CountingProxy, startCountingProxy } from "../../helpers/counting-proxy.ts";
import { ssmFixture } from "../../helpers/ssm.ts";

const LEASE_MS = 60_000;
const PUT = "AmazonSSM.PutParameter";
const DELETE = "AmazonSSM.DeleteParameter";

let proxy: CountingProxy;
beforeAll(async () => {
  proxy = await startCountingProxy(inject("motoEndpoint"));
});
afterAll(() => proxy.close());

function harness() {
  const ssm = ssmFixture();
  let t = Date.parse("2026-11-25T00:00:00Z");
  // One attempt a call: the injected throttle is not retried away.
  const api = liteSsmApi(
    {
      AWS_ACCESS_KEY_ID: "t",
      AWS_SECRET_ACCESS_KEY: "t",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SSM: proxy.endpoint,
    },
    { maxAttempts: 1 },
  );
  if (!api) throw new Error("no api");
  const store = () => ssmSentStore({ api, root: ssm.root, staleAfterMs: LEASE_MS, now: () => t });
  let deliveries = 0;
  /** One scheduled run, as the check does it: claim, mail, mark sent (or release on a failed send). */
  const run = async (id: string) => {
    const s = store();
    try {
      const claim = await s.claim(id);
      if (!claim.claimed) return claim.reason;
      deliveries++;
      await s.markSent(id, claim.token, { recipients: 1 });
      return "sent-now";
    } catch {
      return "error";
    }
  };
  const parameters = async () => {
    const out = await ssm.client.send(
      new GetParametersByPathCommand({ Path: `${ssm.root}/SecurityAlerts`, Recursive: true }),
    );
    return (out.Parameters ?? []).map((p) => (p.Name ?? "").slice(ssm.root.length + 1));
  };
  return {
    store,
    run,
    parameters,
    later: () => {
      t += LEASE_MS + 1_000;
    },
    get deliveries() {
      return deliveries;
    },
  };
}

/** Runs, a lease apart, until the bulletin is marked sent (bounded). */
async function untilSent(h: ReturnType<typeof harness>, id: string) {
  const outcomes: string[] = [];
  for (let i = 0; i < 6; i++) {
    outcomes.push(await h.run(id));
    if (outcomes.at(-1) === "sent" || outcomes.at(-1) === "sent-now") break;
    h.later();
  }
  return outcomes;
}

describe("a claim whose write failed", () => {
  it.each([
    ["the claim's create", PUT, 1],
    ["the takeover's create", PUT, 2],
    ["the claim's overwrite after a takeover", PUT, 3],
    ["the sent marker", PUT, 4],
    ["the takeover's removal", DELETE, 1],
  ])(
    "is recovered after its lease when %s is throttled, leaving no takeover behind",
    async (_what, target, nth) => {
      const h = harness();
      // A run that died holding the claim: the next runs must take it over.
      expect((await h.store().claim("B-1")).claimed).toBe(true);
      h.later();
      proxy.throttleNth(target, nth);
      const outcomes = await untilSent(h, "B-1");
      expect(outcomes.at(-1)).toBe("sent-now");
      expect(h.deliveries).toBeGreaterThanOrEqual(1);
      // Then it stays sent, and only its sent marker is left: nothing accumulates.
      h.later();
      expect(await h.run("B-1")).toBe("sent");
      expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
    },
  );

  it("leaves the parameter count flat over repeated takeovers and runs", async () => {
    const h = harness();
    for (const id of ["B-1", "B-2", "B-3"]) {
      expect((await h.store().claim(id)).claimed).toBe(true); // each abandoned by a dying run
    }
    h.later();
    for (let i = 0; i < 4; i++) {
      for (const id of ["B-1", "B-2", "B-3"]) await h.run(id);
      h.later();
    }
    expect((await h.parameters()).sort()).toEqual([
      "SecurityAlerts/Sent/B-1",
      "SecurityAlerts/Sent/B-2",
      "SecurityAlerts/Sent/B-3",
    ]);
  });
});
