/**
 * The local run as a person uses it: started on free ports with no AWS account, driven over its
 * HTTP API. Real embedded SMTP, real handlers, real queue semantics.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
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
    retryDelayMs: 30,
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
  return { product, lines, api, post, dir };
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
    });
    const { json } = await post("/notifications", { to: "you@example.com", subject: "Lost?", text: "No" });
    await product.queue.drain();
    const dead = await api("/api/dead-letters");
    expect(dead.json).toEqual([expect.objectContaining({ messageId: json.messageId, receiveCount: 3 })]);
    expect(lines.filter((l) => /failed transiently: SQS will retry/.test(l))).toHaveLength(3);
    expect((await api("/api/mail")).json).toEqual([]);
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

  it("serves the console page with a strict content security policy", async () => {
    const { product } = await start();
    const res = await fetch(`${product.url}/`);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await res.text()).toContain("Test Connection");
  });
});
