/**
 * The security-alert function against moto_server (settings and sent markers), a local HTTP
 * bulletin feed and a real SMTP server.
 */

import { GetParametersByPathCommand } from "@aws-sdk/client-ssm";
import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../functions/security-alert-check.ts";
import { METRICS } from "../../lib/metrics/index.ts";
import { ssmSentStore } from "../../lib/security-alerts/index.ts";
import { emfOf, readEmfLine } from "../helpers/emf.ts";
import { type FeedServer, startFeedServer } from "../helpers/feed-server.ts";
import { captureLogs, lambdaContext } from "../helpers/lambda.ts";
import { startSmtpServer, type TestSmtpServer, type TestSmtpServerOptions } from "../helpers/smtp-server.ts";
import { ssmFixture } from "../helpers/ssm.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const VERSION = "10.5.1";
const ADMINS = "admin1@example.com, admin2@example.com";
const scheduled = { "detail-type": "Scheduled Event", source: "aws.scheduler", detail: {} };

async function world({
  settings = {},
  smtpOptions = {},
  env = {},
}: {
  settings?: Record<string, string>;
  smtpOptions?: TestSmtpServerOptions;
  env?: Record<string, string>;
} = {}) {
  const smtp: TestSmtpServer = await startSmtpServer(smtpOptions);
  const feed: FeedServer = await startFeedServer();
  cleanups.push(
    () => smtp.close(),
    () => feed.close(),
  );
  const ssm = ssmFixture();
  await ssm.putSettings({ SMTPServer: "127.0.0.1", SMTPPort: String(smtp.port), ...settings });
  await ssm.put("SecurityAlerts/Recipients", ADMINS);
  feed.bulletins.push(
    { id: "MMSA-2026-001", applies_to_version: VERSION },
    { id: "MMSA-2026-002", applies_to_version: "9.0.0" },
  );
  feed.html["MMSA-2026-001"] = "<h1>Security update</h1><p>Upgrade to 10.5.2.</p>";
  const logs = captureLogs();
  const make = () =>
    createHandler({
      env: {
        SETTINGS_PATH: ssm.root,
        SECURITY_FEED_URL: feed.url,
        APP_VERSION: VERSION,
        SETTINGS_CACHE_SECONDS: "0",
        ...env,
      },
      store: ssm.store(),
      sentStore: ssmSentStore({ api: ssm.api, root: ssm.root }),
      write: logs.write,
      limits: { timeoutMs: 500, maxBytes: 64 * 1024 },
    });
  const sentMarkers = async () => {
    const out = await ssm.client.send(
      new GetParametersByPathCommand({ Path: `${ssm.root}/SecurityAlerts/Sent`, Recursive: true }),
    );
    return (out.Parameters ?? []).map((p) => ({
      name: p.Name?.split("/").pop(),
      state: JSON.parse(p.Value ?? "{}").state,
    }));
  };
  return { smtp, feed, ssm, logs, make, sentMarkers };
}

describe("security-alert-check", () => {
  it("mails a bulletin for this version to every admin, once across two runs", async () => {
    const w = await world();
    const first = await w.make()(scheduled, lambdaContext());
    expect(first).toMatchObject({ status: "checked", sent: ["MMSA-2026-001"], failed: [] });
    expect(w.smtp.messages.flatMap((m) => m.to).sort()).toEqual(["admin1@example.com", "admin2@example.com"]);
    const parsed = await simpleParser(w.smtp.messages[0]?.raw ?? Buffer.alloc(0));
    expect(parsed.subject).toBe("Mattermost Security Bulletin");
    expect(parsed.html).toContain("Upgrade to 10.5.2.");
    expect(await w.sentMarkers()).toEqual([{ name: "MMSA-2026-001", state: "sent" }]);

    const second = await w.make()(scheduled, lambdaContext());
    expect(second.sent).toEqual([]);
    // A run publishes how many bulletins it mailed (EMF): 1, then nothing (a 0 is left out).
    expect(
      emfOf(w.logs.lines).map(
        (l) => readEmfLine(l)[0]?.data.find((d) => d.MetricName === METRICS.bulletinsSent)?.Values,
      ),
    ).toEqual([[1]]);
    expect(second.skipped).toEqual([{ id: "MMSA-2026-001", reason: "sent" }]);
    expect(w.smtp.messages).toHaveLength(2);
  });

  it("two runs at once mail the bulletin once", async () => {
    const w = await world();
    const [a, b] = await Promise.all([
      w.make()(scheduled, lambdaContext()),
      w.make()(scheduled, lambdaContext()),
    ]);
    expect([...a.sent, ...b.sent]).toEqual(["MMSA-2026-001"]);
    expect(w.smtp.messages).toHaveLength(2);
  });

  it.each([
    ["500", /answered 500, expected 200/],
    ["malformed", /did not return JSON/],
    ["huge", /over the 65536-byte limit/],
    ["hang", /no answer within 500 ms/],
  ] as const)("a feed that is %s fails the run, bounded, and the next run sends", async (mode, reason) => {
    const w = await world();
    w.feed.mode = mode;
    await expect(w.make()(scheduled, lambdaContext())).rejects.toThrow(reason);
    expect(w.smtp.messages).toHaveLength(0);
    expect(await w.sentMarkers()).toEqual([]);
    expect(w.logs.entries().find((e) => e.message === "Invocation failed")).toMatchObject({
      level: "error",
      error: { name: "FeedError" },
    });

    w.feed.mode = "ok";
    const retry = await w.make()(scheduled, lambdaContext());
    expect(retry.sent).toEqual(["MMSA-2026-001"]);
  });

  it("leaves a bulletin unsent when its page cannot be fetched, and retries it next run", async () => {
    const w = await world();
    w.feed.mode = "bulletin-500";
    await expect(w.make()(scheduled, lambdaContext())).rejects.toThrow(
      /1 security bulletin\(s\) not sent: MMSA-2026-001/,
    );
    expect(await w.sentMarkers()).toEqual([]);
    w.feed.mode = "ok";
    expect((await w.make()(scheduled, lambdaContext())).sent).toEqual(["MMSA-2026-001"]);
  });

  it("records nothing when a recipient is refused, so the next run tries again", async () => {
    const w = await world({
      smtpOptions: { rcptReplies: { "admin2@example.com": { code: 452, message: "Mailbox full" } } },
    });
    await expect(w.make()(scheduled, lambdaContext())).rejects.toThrow(/not sent/);
    expect(await w.sentMarkers()).toEqual([]);
    // Every send had settled before the claim was released: nothing goes out afterwards.
    await new Promise((r) => setTimeout(r, 300));
    expect(w.smtp.messages.flatMap((m) => m.to)).toEqual(["admin1@example.com"]);
    expect(
      w.logs.entries().find((e) => /not sent; the next run tries again/.test(String(e.message))),
    ).toMatchObject({
      id: "MMSA-2026-001",
      error: { stage: "rcpt", responseCode: 452 },
    });
  });

  it.each([[{ EnableSecurityFixAlert: "false" }], [{ SendEmailNotifications: "false" }]])(
    "does nothing, not even a feed request, when %j",
    async (settings) => {
      const w = await world({ settings });
      const report = await w.make()(scheduled, lambdaContext());
      expect(report.status).toBe("disabled");
      expect(w.feed.requests).toEqual([]);
      expect(w.smtp.connections()).toBe(0);
    },
  );

  it("honours the ServiceSettings spelling of EnableSecurityFixAlert", async () => {
    const w = await world();
    await w.ssm.put("ServiceSettings/EnableSecurityFixAlert", "false");
    expect((await w.make()(scheduled, lambdaContext())).status).toBe("disabled");
    expect(w.feed.requests).toEqual([]);
  });

  it("takes recipients from SECURITY_ALERT_RECIPIENTS over the parameter", async () => {
    const w = await world({ env: { SECURITY_ALERT_RECIPIENTS: "ops@example.com" } });
    await w.make()(scheduled, lambdaContext());
    expect(w.smtp.messages.flatMap((m) => m.to)).toEqual(["ops@example.com"]);
  });

  it("fails with a clear configuration error, before any request, when recipients or the feed are missing", async () => {
    const w = await world({
      env: { SECURITY_ALERT_RECIPIENTS: "not-an-address", SECURITY_FEED_URL: "ftp://x" },
    });
    await expect(w.make()(scheduled, lambdaContext())).rejects.toThrow(
      /SECURITY_FEED_URL must be an http\(s\) URL; SECURITY_ALERT_RECIPIENTS holds an entry that is not an email address: not-an-address/,
    );
    expect(w.feed.requests).toEqual([]);
  });
});

describe("ssmSentStore", () => {
  it("lets exactly one run take over a claim left by a run that died", async () => {
    const ssm = ssmFixture();
    let t = Date.parse("2026-11-24T00:00:00Z");
    const store = () => ssmSentStore({ api: ssm.api, root: ssm.root, staleAfterMs: 60_000, now: () => t });
    const dead = await store().claim("B-1");
    expect(dead.claimed).toBe(true);
    expect(await store().claim("B-1")).toMatchObject({ claimed: false, reason: "in-progress" });
    t += 61_000;
    const racers = await Promise.all([store().claim("B-1"), store().claim("B-1"), store().claim("B-1")]);
    expect(racers.filter((r) => r.claimed)).toHaveLength(1);
  });

  it("counts a create whose reply was lost, then retried into ParameterAlreadyExists, as its own", async () => {
    const ssm = ssmFixture();
    // The first create-only write succeeds at SSM, its reply is lost, and the retry is refused.
    let lostOnce = false;
    const lossy = {
      call: async (operation: never, input: Record<string, unknown>) => {
        const result = await ssm.api.call(operation, input);
        if (operation === "PutParameter" && input.Overwrite === false && !lostOnce) {
          lostOnce = true;
          return ssm.api.call(operation, input); // the retry: ParameterAlreadyExists
        }
        return result;
      },
    };
    const claim = await ssmSentStore({ api: lossy as never, root: ssm.root }).claim("B-3");
    expect(lostOnce).toBe(true);
    expect(claim.claimed).toBe(true);
    // and another run still sees it as taken
    expect(await ssmSentStore({ api: ssm.api, root: ssm.root }).claim("B-3")).toMatchObject({
      claimed: false,
    });
  });

  it("releases only its own claim", async () => {
    const ssm = ssmFixture();
    const store = ssmSentStore({ api: ssm.api, root: ssm.root });
    const mine = await store.claim("B-2");
    if (!mine.claimed) throw new Error("expected a claim");
    await store.release("B-2", "someone-else");
    expect(await store.claim("B-2")).toMatchObject({ claimed: false });
    await store.release("B-2", mine.token);
    expect((await store.claim("B-2")).claimed).toBe(true);
  });
});

describe("what one run may do", () => {
  it("mails at most SECURITY_ALERT_MAX_PER_RUN bulletins, then fails the run so its alarm fires", async () => {
    const w = await world({ env: { SECURITY_ALERT_MAX_PER_RUN: "2" } });
    for (const n of [3, 4, 5]) {
      w.feed.bulletins.push({ id: `MMSA-2026-00${n}`, applies_to_version: VERSION });
      w.feed.html[`MMSA-2026-00${n}`] = `<p>Bulletin ${n}</p>`;
    }
    const run = w.make()(scheduled, lambdaContext());
    await expect(run).rejects.toMatchObject({
      name: "SecurityAlertRunError",
      message: expect.stringMatching(/2 more applicable bulletin\(s\) than the 2 one run may mail/),
    });
    expect((await w.sentMarkers()).filter((m) => m.state === "sent")).toHaveLength(2);
    expect(w.smtp.messages).toHaveLength(2 * 2); // two bulletins, two admins each
  });

  it("isolates one bulletin's failure: the others are still mailed in the same run", async () => {
    const w = await world();
    w.feed.bulletins.unshift({ id: "MMSA-2026-000", applies_to_version: VERSION });
    // Its page fails, so it is not sent; the bulletin after it is.
    const run = w.make()(scheduled, lambdaContext());
    await expect(run).rejects.toMatchObject({ name: "SecurityAlertRunError" });
    const sent = (await w.sentMarkers()).filter((m) => m.state === "sent").map((m) => m.name);
    expect(sent).toEqual(["MMSA-2026-001"]);
  });
});

describe("claims and markers across runs (issue 19)", () => {
  const longAgo = "2020-01-01T00:00:00.000Z";

  it("fails the invocation, so its errors alarm fires, on a claim older than its lease it cannot take over", async () => {
    const w = await world();
    await w.ssm.put(
      "SecurityAlerts/Sent/MMSA-2026-001",
      JSON.stringify({ state: "sending", token: "t0", at: longAgo }),
    );
    await w.ssm.put("SecurityAlerts/Takeover/MMSA-2026-001.t0", "edited by hand");
    await expect(w.make()(scheduled, lambdaContext())).rejects.toMatchObject({
      name: "SecurityAlertRunError",
      message: expect.stringMatching(/MMSA-2026-001: .*older than its lease .*cannot be taken over/),
    });
    expect(w.smtp.messages).toHaveLength(0);
    expect(w.logs.entries().find((e) => e.message === "Invocation failed")).toMatchObject({ level: "error" });
  });

  it("takes over a claim a dead run left, after its lease, and mails the bulletin once", async () => {
    const w = await world();
    await w.ssm.put(
      "SecurityAlerts/Sent/MMSA-2026-001",
      JSON.stringify({ state: "sending", token: "t0", at: longAgo }),
    );
    const report = await w.make()(scheduled, lambdaContext());
    expect(report.sent).toEqual(["MMSA-2026-001"]);
    expect(w.smtp.messages).toHaveLength(2);
    expect(w.logs.entries().find((e) => /took over/i.test(String(e.message)))).toMatchObject({
      level: "warn",
      id: "MMSA-2026-001",
      since: longAgo,
    });
    expect((await w.make()(scheduled, lambdaContext())).skipped).toEqual([
      { id: "MMSA-2026-001", reason: "sent" },
    ]);
    expect(w.smtp.messages).toHaveLength(2);
  });

  it("keeps a bulletin sent by an earlier version sent", async () => {
    const w = await world();
    await w.ssm.put(
      "SecurityAlerts/Sent/MMSA-2026-001",
      JSON.stringify({ state: "sent", token: "t0", at: longAgo, recipients: 2 }),
    );
    const report = await w.make()(scheduled, lambdaContext());
    expect(report).toMatchObject({
      sent: [],
      failed: [],
      skipped: [{ id: "MMSA-2026-001", reason: "sent" }],
    });
    expect(w.smtp.messages).toHaveLength(0);
  });
});
