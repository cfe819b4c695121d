/**
 * The sent-store's claim protocol against moto_server, with a proxy in front that answers
 * ThrottlingException to one chosen request: whichever write of a claim fails, the bulletin is
 * sent once its lease is over (never locked out), and the takeover parameters are removed, so
 * repeated runs leave the parameter count flat. Then the takeover chain: runs that keep failing
 * between a takeover and its claim write never wedge a bulletin (issue 19), a stale claim that
 * cannot be taken over fails the run instead of passing for "in progress", and markers and
 * takeovers written before an upgrade keep their meaning.
 */
import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { liteSsmApi, type SsmApi, SsmError } from "../../../lib/aws-ssm/index.ts";
import { ssmSentStore } from "../../../lib/security-alerts/index.ts";
import { MAX_TAKEOVER_CHAIN } from "../../../lib/security-alerts/sent-store.ts";
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

function harness(wrap: (api: SsmApi) => SsmApi = (api) => api) {
  const ssm = ssmFixture();
  let t = Date.parse("2026-11-25T00:00:00Z");
  // One attempt a call: the injected throttle is not retried away.
  const direct = liteSsmApi(
    {
      AWS_ACCESS_KEY_ID: "t",
      AWS_SECRET_ACCESS_KEY: "t",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SSM: proxy.endpoint,
    },
    { maxAttempts: 1 },
  );
  if (!direct) throw new Error("no api");
  const api = wrap(direct);
  const store = (through: SsmApi = api) =>
    ssmSentStore({ api: through, root: ssm.root, staleAfterMs: LEASE_MS, now: () => t });
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
    ssm,
    api,
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

const throttled = () => new SsmError("ThrottlingException", "Rate exceeded", 400);

/**
 * Fails, while switched on, the claim's overwrite after a takeover and (with `removal`) the
 * removal of takeover names: together, a run that died between its takeover and its claim write.
 */
function faulty(id: string) {
  const faults = { claimWrite: false, removal: false };
  const wrap = (api: SsmApi): SsmApi =>
    ({
      call(operation, input) {
        const name = String(input.Name ?? "");
        if (
          faults.claimWrite &&
          operation === "PutParameter" &&
          input.Overwrite === true &&
          name.endsWith(`/Sent/${id}`)
        )
          return Promise.reject(throttled());
        if (faults.removal && operation === "DeleteParameter" && name.includes("/Takeover/"))
          return Promise.reject(throttled());
        return api.call(operation, input);
      },
    }) as SsmApi;
  return { faults, wrap };
}

const OLD = "2026-11-24T00:00:00.000Z"; // a day before the harness's clock: long stale
const sending = (token: string, at = OLD) => JSON.stringify({ state: "sending", token, at });
const link = (token: string, at = OLD) => JSON.stringify({ token, at });

describe("the takeover chain (issue 19)", () => {
  it.each([
    ["its claim write fails", { removal: false }],
    ["it dies between its takeover and its claim write", { removal: true }],
  ])(
    "is not wedged by ten runs in a row (eight wedged it) where %s: each of them fails, then one sends it once",
    async (_what, { removal }) => {
      const f = faulty("B-1");
      const h = harness(f.wrap);
      expect((await h.store().claim("B-1")).claimed).toBe(true); // a run that died holding it
      h.later();
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        Object.assign(f.faults, { claimWrite: true, removal });
        outcomes.push(await h.run("B-1"));
        h.later();
      }
      // Every one of them failed (so its alarm fired): none passed for "in progress".
      expect(outcomes).toEqual(outcomes.map(() => "error"));
      Object.assign(f.faults, { claimWrite: false, removal: false });
      expect(await h.run("B-1")).toBe("sent-now");
      expect(h.deliveries).toBe(1);
      h.later();
      expect(await h.run("B-1")).toBe("sent");
      expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
    },
  );

  it("removes the takeovers of runs that died after their claim write, once the bulletin is sent", async () => {
    const h = harness();
    expect((await h.store().claim("B-1")).claimed).toBe(true); // a run that died holding it
    for (let i = 0; i < 3; i++) {
      h.later();
      expect((await h.store().claim("B-1")).claimed).toBe(true); // took it over, then died too
    }
    h.later();
    expect(await h.run("B-1")).toBe("sent-now");
    expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
  });

  it.each([
    ["a takeover that holds no token (written by hand)", ["not json"]],
    ["a takeover chain that loops", [link("t1"), link("t0")]],
    [
      "a takeover chain at its limit",
      Array.from({ length: MAX_TAKEOVER_CHAIN }, (_, i) => link(`t${i + 1}`)),
    ],
  ])("fails a claim older than its lease that it cannot take over: %s", async (_what, chain) => {
    const h = harness();
    await h.ssm.put("SecurityAlerts/Sent/B-1", sending("t0"));
    for (const [i, value] of chain.entries()) await h.ssm.put(`SecurityAlerts/Takeover/B-1.t${i}`, value);
    await expect(h.store().claim("B-1")).rejects.toMatchObject({
      name: "StaleClaimError",
      message: expect.stringMatching(/B-1 is older than its lease .* cannot be taken over/),
    });
    expect(h.deliveries).toBe(0);
  });

  it("lets exactly one of several racing runs take over the end of a long chain", async () => {
    const h = harness();
    const length = MAX_TAKEOVER_CHAIN - 1;
    await h.ssm.put("SecurityAlerts/Sent/B-1", sending("t0"));
    for (let i = 0; i < length; i++) await h.ssm.put(`SecurityAlerts/Takeover/B-1.t${i}`, link(`t${i + 1}`));
    const racers = await Promise.all(Array.from({ length: 5 }, () => h.run("B-1")));
    expect(racers.filter((r) => r === "sent-now")).toHaveLength(1);
    expect(h.deliveries).toBe(1);
    expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
  });

  it("does not let a run that stalled mid-takeover claim a bulletin another run has since sent", async () => {
    const h = harness();
    expect((await h.store().claim("B-1")).claimed).toBe(true); // a run that died holding it
    h.later();
    // W stalls at its first call on the takeover name, as under throttling and retries.
    let reached!: () => void;
    const atTakeover = new Promise<void>((r) => {
      reached = r;
    });
    let resume!: () => void;
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    let stalled = false;
    const stalling = {
      async call(operation: never, input: Record<string, unknown>) {
        if (!stalled && String(input.Name ?? "").includes("/Takeover/")) {
          stalled = true;
          reached();
          await resumed;
        }
        return h.api.call(operation, input);
      },
    } as SsmApi;
    const w = h.store(stalling).claim("B-1");
    await atTakeover;
    expect(await h.run("B-1")).toBe("sent-now"); // meanwhile another run takes over and sends it
    resume();
    expect(await w).toMatchObject({ claimed: false, reason: "sent" });
    expect(await h.run("B-1")).toBe("sent");
    expect(h.deliveries).toBe(1);
    expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
  });
});

describe("markers written before an upgrade", () => {
  it("keeps a bulletin sent: the sent marker of an earlier version, or any value put by hand", async () => {
    const h = harness();
    await h.ssm.put(
      "SecurityAlerts/Sent/B-1",
      JSON.stringify({ state: "sent", token: "old", at: OLD, recipients: 2 }),
    );
    await h.ssm.put("SecurityAlerts/Sent/B-2", "done");
    await h.ssm.put("SecurityAlerts/Sent/B-3", "1"); // by hand too, but valid JSON
    await h.ssm.put("SecurityAlerts/Sent/B-4", "{}");
    for (const id of ["B-1", "B-2", "B-3", "B-4"]) expect(await h.run(id)).toBe("sent");
    expect(h.deliveries).toBe(0);
  });

  it("finishes the cleanup an earlier version left on a sent marker", async () => {
    const h = harness();
    const left = `${h.ssm.root}/SecurityAlerts/Takeover/B-1.old`;
    await h.ssm.put("SecurityAlerts/Takeover/B-1.old", link("older"));
    await h.ssm.put(
      "SecurityAlerts/Sent/B-1",
      JSON.stringify({ state: "sent", token: "x", at: OLD, recipients: 1, takeovers: [left] }),
    );
    expect(await h.run("B-1")).toBe("sent");
    expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
  });

  it("honours a takeover in flight from an earlier version until its lease is over", async () => {
    const h = harness();
    const at = new Date(Date.parse("2026-11-25T00:00:00Z")).toISOString();
    await h.ssm.put("SecurityAlerts/Sent/B-1", sending("t0"));
    await h.ssm.put("SecurityAlerts/Takeover/B-1.t0", link("old-run", at));
    expect(await h.run("B-1")).toBe("in-progress");
    h.later();
    expect(await h.run("B-1")).toBe("sent-now");
    expect(h.deliveries).toBe(1);
    expect(await h.parameters()).toEqual(["SecurityAlerts/Sent/B-1"]);
  });
});
