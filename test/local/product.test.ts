/**
 * The local run as a person uses it: started on free ports with no AWS account, driven over its
 * HTTP API. Real embedded SMTP, real handlers, real queue semantics. Back-offs are scaled down
 * (delayScale) so retries take milliseconds; every wait is bounded, and no duration is asserted.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalProduct, type LocalProductOptions, startLocalProduct } from "../../local/product.ts";
import { startFeedServer } from "../helpers/feed-server.ts";
import { freePort } from "../helpers/ports.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type Json = any;

const running: LocalProduct[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all([...running.splice(0).map((p) => p.stop()), ...cleanups.splice(0).map((c) => c())]);
});

async function start(options: Partial<LocalProductOptions> = {}) {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "local-run-"));
  const product = await startLocalProduct({
    env: {},
    settingsFile: join(dir, "local-settings.json"),
    // A record the function leaves unacknowledged without a back-off returns after 1 s; the
    // function's own back-offs (30 s, 60 s…) take a thousandth of that.
    visibilityTimeoutMs: 1000,
    delayScale: 0.001,
    log: (l) => lines.push(l),
    ...options,
  });
  running.push(product);
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${product.url}${path}`, init);
    return { status: res.status, json: (await res.json()) as Json };
  };
  const post = (path: string, body: unknown) =>
    api(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  /** Polls GET /api/queue until `done` holds for it, at most `timeoutMs`; returns the last view. */
  const queueUntil = async (what: string, done: (view: Json) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await api("/api/queue");
      if (done(json)) return json;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; the queue shows ${JSON.stringify(json.queue)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { product, lines, api, post, dir, queueUntil };
}

describe("the local run", () => {
  it("sends a posted notification through the queue and the real handler to the embedded SMTP server", async () => {
    const { product, api, post, lines } = await start();
    const queued = await post("/notifications", {
      to: "you@example.com",
      subject: "Hello",
      html: "<p>It <b>works</b></p>",
    });
    expect(queued.status).toBe(202);
    await product.queue.drain();
    const list = await api("/api/mail");
    expect(list.json).toMatchObject([{ to: ["you@example.com"], subject: "Hello" }]);
    const mail = await api(`/api/mail/${list.json[0].id}`);
    expect(mail.json.html).toContain("<b>works</b>");
    expect(mail.json.text.trim()).toBe("It works");
    expect(mail.json.headers).toEqual(
      expect.arrayContaining([{ name: "message-id", value: `<${queued.json.messageId}@example.com>` }]),
    );
    expect(lines.some((l) => /embedded-smtp\s+captured\s+to=you@example.com subject="Hello"/.test(l))).toBe(
      true,
    );
    expect(lines.some((l) => /send-notification\s+Notification sent/.test(l))).toBe(true);
  });

  it("retries a record the SMTP server cannot take, then moves it to the dead-letter list", async () => {
    const deadPort = await freePort();
    const { product, api, post, lines } = await start({
      env: { MM_EMAILSETTINGS_SMTPPORT: String(deadPort) },
      maxReceiveCount: 3,
    });
    const { json } = await post("/notifications", { to: "you@example.com", subject: "Lost?", text: "No" });
    await product.queue.drain();
    const dead = await api("/api/dead-letters");
    expect(dead.json).toEqual([
      expect.objectContaining({
        messageId: json.messageId,
        receiveCount: 3,
        by: "receive-limit",
        code: "MaxReceiveCountExceeded",
      }),
    ]);
    const view = (await api("/api/queue")).json;
    expect(view.queue).toMatchObject({ receives: 3, sent: 0, deadLettered: 1 });
    expect(view.deadLetters[0].reason).toContain("received 3 times");
    expect(
      lines.some((l) => /local-queue\s+DEAD LETTER .* after 3 receives: MaxReceiveCountExceeded/.test(l)),
    ).toBe(true);
    expect((await api("/api/mail")).json).toEqual([]);
  });

  it("drains a burst under the embedded server's rate limit: every message captured once, none dead-lettered", async () => {
    // The deployed visibility timeout's role: without the function's back-offs (retryLater), a
    // throttled record would not return within this test's wait.
    const { post, queueUntil, product } = await start({
      smtpLimits: { ratePerSecond: 5 },
      visibilityTimeoutMs: 30_000,
      delayScale: 0.002,
    });
    const count = 20;
    const burst = await post("/notifications/burst", { count, to: "burst@example.com" });
    expect(burst.status).toBe(202);
    expect(burst.json.messageIds).toHaveLength(count);
    const view = await queueUntil(
      `all ${count} records sent or dead-lettered`,
      (v) => v.queue.sent + v.queue.deadLettered >= count,
      25_000,
    );
    expect(view.deadLetters).toEqual([]);
    expect(view.queue).toMatchObject({ sent: count, visible: 0, delayed: 0, inFlight: 0, deadLettered: 0 });
    // The limit did bite, and the function answered it with back-offs, not the visibility timeout.
    expect(view.smtp.stats.throttledMessages).toBeGreaterThan(0);
    expect(view.queue.retriedLater).toBeGreaterThan(0);
    const subjects = product.mailbox.messages.map((m) => m.subject);
    expect(subjects).toHaveLength(count);
    expect(new Set(subjects)).toEqual(
      new Set(Array.from({ length: count }, (_, i) => `Burst test ${i + 1}/${count}`)),
    );
  }, 40_000);

  it("holds mail through an outage of the embedded server and sends it once the server is back", async () => {
    const { post, queueUntil, product } = await start({ maxReceiveCount: 100 });
    const down = await post("/api/smtp-limits", { down: true });
    expect(down).toMatchObject({ status: 200, json: { limits: { down: true } } });
    await post("/notifications", { to: "you@example.com", subject: "After the outage", text: "Held" });
    await queueUntil("a refused connection", (v) => v.smtp.stats.refusedConnections > 0);
    expect(product.mailbox.messages).toEqual([]);
    await post("/api/smtp-limits", { down: false });
    const view = await queueUntil("the record to be sent", (v) => v.queue.sent === 1);
    expect(view.deadLetters).toEqual([]);
    expect(product.mailbox.messages.map((m) => m.subject)).toEqual(["After the outage"]);
  });

  it("refuses a connection past the embedded server's connection limit with Postfix's 421", async () => {
    const { post, api, product } = await start({ smtpLimits: { maxConnections: 1 } });
    const holder: Socket = connect(product.mailbox.port, "127.0.0.1");
    cleanups.push(async () => {
      holder.destroy();
    });
    await new Promise<void>((resolve) => holder.once("data", () => resolve())); // its 220 greeting
    const test = await post("/email/test", {});
    expect(test.json).toMatchObject({ ok: false, error: { stage: "greeting" } });
    expect(test.json.error.message).toContain("421 4.7.0 Error: too many connections");
    const { json } = await api("/api/queue");
    expect(json.smtp).toMatchObject({
      limits: { maxConnections: 1, ratePerSecond: null, down: false },
      stats: { refusedConnections: 1, openConnections: 1 },
    });
  });

  it("shows a record the function dead-letters itself with its reason, after one receive", async () => {
    const { post, queueUntil } = await start();
    const { json } = await post("/notifications", { subject: "Nobody to send it to", text: "No" });
    const view = await queueUntil("the record to be dead-lettered", (v) => v.queue.deadLettered === 1);
    expect(view.deadLetters).toEqual([
      expect.objectContaining({
        messageId: json.messageId,
        receiveCount: 1,
        by: "function",
        code: "InvalidNotification",
        reason: expect.stringMatching(/\S/),
      }),
    ]);
    expect(view.queue).toMatchObject({ sent: 0, receives: 1 });
  });

  it("changes the embedded server's limits at run time, refusing bad values with the field named", async () => {
    const { post, api } = await start();
    const set = await post("/api/smtp-limits", { ratePerSecond: 2.5, maxConnections: 3 });
    expect(set).toMatchObject({
      status: 200,
      json: { limits: { ratePerSecond: 2.5, maxConnections: 3, burst: null, down: false } },
    });
    const lifted = await post("/api/smtp-limits", { ratePerSecond: null });
    expect(lifted.json.limits).toMatchObject({ ratePerSecond: null, maxConnections: 3 });
    for (const [body, field] of [
      [{ ratePerSecond: -1 }, "ratePerSecond"],
      [{ ratePerSecond: "fast" }, "ratePerSecond"],
      [{ maxConnections: 1.5 }, "maxConnections"],
      [{ maxConnections: 0 }, "maxConnections"],
      [{ burst: 0 }, "burst"],
      [{ down: "yes" }, "down"],
      [{ speed: 1 }, "speed"],
    ] as const) {
      const refused = await post("/api/smtp-limits", body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.field).toBe(field);
      expect(refused.json.error).toContain(field);
    }
    const notJson = await api("/api/smtp-limits", { method: "POST", body: "rate=2" });
    expect(notJson.status).toBe(403);
    expect(notJson.json.error).toMatch(/content-type: application\/json/);
    expect((await api("/api/smtp-limits")).json.limits).toMatchObject({
      ratePerSecond: null,
      maxConnections: 3,
    });
  });

  it("refuses a burst that is too large, empty, or has no valid recipient", async () => {
    const { post, product } = await start();
    for (const [body, field] of [
      [{ count: 1001, to: "you@example.com" }, "count"],
      [{ count: 0, to: "you@example.com" }, "count"],
      [{ count: 2.5, to: "you@example.com" }, "count"],
      [{ to: "you@example.com" }, "count"],
      [{ count: 3, to: "not an address" }, "to"],
    ] as const) {
      const refused = await post("/notifications/burst", body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.field).toBe(field);
      expect(refused.json.error).toContain(field);
    }
    expect(product.queue.size()).toBe(0);
  });

  it("shows every setting with its source: default, embedded server, settings file, environment (read-only)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-file-"));
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({ EmailSettings: { FeedbackName: "Local Ops", SMTPPassword: "file-secret-77" } }),
    );
    const { api } = await start({
      settingsFile: file,
      env: { MM_EMAILSETTINGS_FEEDBACKEMAIL: "ops@example.com" },
    });
    const { status, json } = await api("/api/settings");
    expect(status).toBe(200);
    expect(json.settings.SMTPServer).toMatchObject({
      value: "127.0.0.1",
      source: { layer: "local" },
      readOnly: false,
    });
    expect(json.settings.FeedbackName).toMatchObject({
      value: "Local Ops",
      source: { layer: "file", name: `${file} EmailSettings.FeedbackName` },
    });
    expect(json.settings.FeedbackEmail).toMatchObject({
      value: "ops@example.com",
      source: { layer: "environment", name: "MM_EMAILSETTINGS_FEEDBACKEMAIL" },
      variable: "MM_EMAILSETTINGS_FEEDBACKEMAIL",
      readOnly: true,
    });
    expect(json.settings.SMTPTimeout).toBeUndefined();
    expect(json.settings.SMTPPassword.value).toBe("*".repeat(32));
    expect(JSON.stringify(json)).not.toContain("file-secret-77");
  });

  it("serves the connection test unchanged, passing and failing by stage", async () => {
    const { post, product } = await start();
    const ok = await post("/email/test", { to: "admin@example.com" });
    expect(ok.json).toMatchObject({ ok: true });
    expect(product.mailbox.messages[0]?.subject).toBe("Mattermost - Testing Email Settings");
    const dead = await post("/email/test", { settings: { SMTPPort: await freePort() } });
    expect(dead.json).toMatchObject({ ok: false, error: { stage: "connect", code: "ECONNREFUSED" } });
  });

  it("runs the security-alert check on request, mailing each bulletin once", async () => {
    const feed = await startFeedServer();
    cleanups.push(() => feed.close());
    feed.bulletins.push({ id: "MMSA-1", applies_to_version: "10.5.1" });
    feed.html["MMSA-1"] = "<p>Upgrade now.</p>";
    const { post, product } = await start({
      env: {
        SECURITY_FEED_URL: feed.url,
        APP_VERSION: "10.5.1",
        SECURITY_ALERT_RECIPIENTS: "admin@example.com",
      },
    });
    const first = await post("/security-alerts/run", {});
    expect(first).toMatchObject({ status: 200, json: { sent: ["MMSA-1"] } });
    const second = await post("/security-alerts/run", {});
    expect(second.json.skipped).toEqual([{ id: "MMSA-1", reason: "sent" }]);
    expect(product.mailbox.messages.map((m) => m.subject)).toEqual(["Mattermost Security Bulletin"]);
  });

  it("on a fresh run, with no feed of the operator's: the stand-in's sample bulletin, mailed once", async () => {
    const { post, product } = await start();
    const first = await post("/security-alerts/run", {});
    expect(first).toMatchObject({ status: 200, json: { sent: ["MMSA-LOCAL-0001"] } });
    const second = await post("/security-alerts/run", {});
    expect(second).toMatchObject({
      status: 200,
      json: { skipped: [{ id: "MMSA-LOCAL-0001", reason: "sent" }] },
    });
    expect(product.mailbox.messages.map((m) => [m.subject, m.to])).toEqual([
      ["Mattermost Security Bulletin", ["admin@example.com"]],
    ]);
    expect(product.securityFeed).toEqual({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      appVersion: "10.5.1",
    });
  });

  it("serves the console page with a strict content security policy", async () => {
    const { product } = await start();
    const res = await fetch(`${product.url}/`);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await res.text()).toContain("Test Connection");
  });
});
