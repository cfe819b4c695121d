/**
 * The local run's write routes, over HTTP against startLocalProduct with a temp settings file:
 * PUT and DELETE /api/settings/:name (the product's check first; the rest of the file kept; the
 * password never echoed), POST /api/dead-letters/redrive and DELETE /api/dead-letters. Waits are
 * bounded; no duration is asserted.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalProduct, type LocalProductOptions, startLocalProduct } from "../../local/product.ts";

const running: LocalProduct[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const SECRET = "route-Pa55word!";

async function start(options: Partial<LocalProductOptions> = {}) {
  const file = join(mkdtempSync(join(tmpdir(), "local-writes-")), "local-settings.json");
  const product = await startLocalProduct({
    env: {},
    settingsFile: file,
    visibilityTimeoutMs: 1000,
    delayScale: 0.001,
    log: () => {},
    ...options,
  });
  running.push(product);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${product.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) };
  };
  const fileJson = () => JSON.parse(readFileSync(file, "utf8"));
  return { product, file, call, fileJson };
}

describe("PUT and DELETE /api/settings/:name", () => {
  it("writes a product's own setting in its section, a new file readable by its owner alone, an existing one keeping its mode", async () => {
    const { file, call, fileJson } = await start();
    expect((await call("PUT", "/api/settings/OAuth2ClientSecret", { value: SECRET })).status).toBe(200);
    expect(fileJson()).toEqual({ EmailTransportSettings: { OAuth2ClientSecret: SECRET } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o640);
    await call("PUT", "/api/settings/SMTPAuthMethod", { value: "oauth2-generic" });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(fileJson().EmailTransportSettings.SMTPAuthMethod).toBe("oauth2-generic");
  });

  it("writes a valid value into the file, keeping the rest; GET /api/settings then shows the file as its source", async () => {
    const { file, call, fileJson } = await start();
    writeFileSync(
      file,
      JSON.stringify({
        SecurityAlerts: { Recipients: "ops@example.com" },
        EmailSettings: { FeedbackName: "Chat" },
      }),
    );
    const put = await call("PUT", "/api/settings/SMTPServerTimeout", { value: 30 });
    expect(put).toMatchObject({
      status: 200,
      json: {
        setting: "SMTPServerTimeout",
        file,
        location: "EmailSettings.SMTPServerTimeout",
        stored: null,
        value: 30,
        changed: true,
        written: true,
        warnings: [],
      },
    });
    expect(fileJson()).toEqual({
      SecurityAlerts: { Recipients: "ops@example.com" },
      EmailSettings: { FeedbackName: "Chat", SMTPServerTimeout: 30 },
    });
    const shown = await call("GET", "/api/settings");
    expect(shown.json.settings.SMTPServerTimeout).toMatchObject({
      value: 30,
      source: { layer: "file", name: `${file} EmailSettings.SMTPServerTimeout` },
    });
    // The reference server's place for it, when asked; a dry run writes nothing.
    const dry = await call("PUT", "/api/settings/EnableSecurityFixAlert", {
      value: false,
      section: "ServiceSettings",
      dryRun: true,
    });
    expect(dry.json).toMatchObject({
      location: "ServiceSettings.EnableSecurityFixAlert",
      changed: true,
      written: false,
    });
    expect(fileJson().ServiceSettings).toBeUndefined();
  });

  it("refuses an invalid value with a 400 naming the setting and the rule, and leaves the file as it was", async () => {
    const { file, call } = await start();
    writeFileSync(file, JSON.stringify({ EmailSettings: { SMTPPort: "587" } }));
    const before = readFileSync(file, "utf8");
    const bad = await call("PUT", "/api/settings/SMTPPort", { value: "smtp" });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe(
      `Invalid email settings: SMTPPort (settings file ${file} EmailSettings.SMTPPort = "smtp") must be a whole number from 1 to 65535. Nothing was written.`,
    );
    const email = await call("PUT", "/api/settings/FeedbackEmail", { value: "nobody" });
    expect(email.status).toBe(400);
    expect(email.json.error).toContain("FeedbackEmail");
    expect(email.json.error).toContain("must be an email address");
    expect((await call("PUT", "/api/settings/SMTPPort", {})).status).toBe(400);
    expect((await call("PUT", "/api/settings/SMTPPort", { value: "25", extra: 1 })).status).toBe(400);
    expect((await call("PUT", "/api/settings/NoSuchSetting", { value: "x" })).status).toBe(404);
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("stores the password without echoing it, and warns when an MM_* variable of the run hides a setting", async () => {
    const { call, fileJson } = await start({ env: { MM_EMAILSETTINGS_SMTPUSERNAME: "from-env" } });
    const pw = await call("PUT", "/api/settings/SMTPPassword", { value: SECRET });
    expect(pw.status).toBe(200);
    expect(pw.text).not.toContain(SECRET);
    expect(pw.json.value).toBe("*".repeat(32));
    expect(fileJson().EmailSettings.SMTPPassword).toBe(SECRET);
    const again = await call("PUT", "/api/settings/SMTPPassword", { value: `${SECRET}!` });
    expect(again.text).not.toContain(SECRET);
    const user = await call("PUT", "/api/settings/SMTPUsername", { value: "mailer" });
    expect(user.json.warnings).toEqual([expect.stringContaining("MM_EMAILSETTINGS_SMTPUSERNAME")]);
    expect((await call("GET", "/api/settings")).text).not.toContain(SECRET);
  });

  it("DELETE removes the setting from every section that holds it, keeping the rest", async () => {
    const { file, call, fileJson } = await start();
    writeFileSync(
      file,
      JSON.stringify({
        ServiceSettings: { SiteURL: "https://chat.example.com", EnableSecurityFixAlert: false },
        EmailSettings: { SMTPServer: "smtp.example.com" },
      }),
    );
    const del = await call("DELETE", "/api/settings/EnableSecurityFixAlert");
    expect(del).toMatchObject({
      status: 200,
      json: { removed: ["ServiceSettings.EnableSecurityFixAlert"], warnings: [] },
    });
    expect(fileJson()).toEqual({
      ServiceSettings: { SiteURL: "https://chat.example.com" },
      EmailSettings: { SMTPServer: "smtp.example.com" },
    });
    expect((await call("DELETE", "/api/settings/SMTPPort")).json.removed).toEqual([]);
  });

  it("refuses with 409 when the run reads SSM instead of a file", async () => {
    const { call } = await start({
      env: { SETTINGS_PATH: "/local-test", AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:9" },
    });
    const put = await call("PUT", "/api/settings/SMTPPort", { value: "25" });
    expect(put.status).toBe(409);
    expect(put.json.error).toContain("SSM");
  });
});

describe("the dead-letter list's routes", () => {
  const letter = (id: string, subject: string) => ({
    id,
    body: JSON.stringify({ to: "you@example.com", subject, text: "Again" }),
    receiveCount: 3,
    reason: "the provider was down",
    code: "ECONNECTION",
  });

  it("redrives named letters as new messages (then they are sent), all without ids, and purges", async () => {
    const { product, call } = await start();
    await product.queue.deadLetter(letter("dead-1", "One"));
    await product.queue.deadLetter(letter("dead-2", "Two"));
    await product.queue.deadLetter(letter("dead-3", "Three"));

    const one = await call("POST", "/api/dead-letters/redrive", { ids: ["dead-1", "nope"] });
    expect(one).toMatchObject({
      status: 200,
      json: { redriven: [{ messageId: "dead-1", newMessageId: expect.any(String) }], missing: ["nope"] },
    });
    expect(one.json.redriven[0].newMessageId).not.toBe("dead-1");
    await product.queue.drain(15_000);
    expect(product.mailbox.messages.map((m) => m.subject)).toEqual(["One"]);
    expect(
      (await call("GET", "/api/dead-letters")).json.map((d: { messageId: string }) => d.messageId),
    ).toEqual(["dead-3", "dead-2"]);

    for (const body of [{ ids: [] }, { ids: "dead-2" }, { all: true }])
      expect((await call("POST", "/api/dead-letters/redrive", body)).status).toBe(400);

    const all = await call("POST", "/api/dead-letters/redrive", {});
    expect(all.json.redriven.map((r: { messageId: string }) => r.messageId)).toEqual(["dead-2", "dead-3"]);
    await product.queue.drain(15_000);
    expect(product.mailbox.messages.map((m) => m.subject).sort()).toEqual(["One", "Three", "Two"]);
    expect((await call("GET", "/api/dead-letters")).json).toEqual([]);

    await product.queue.deadLetter(letter("dead-4", "Four"));
    await product.queue.deadLetter(letter("dead-5", "Five"));
    expect(await call("DELETE", "/api/dead-letters")).toMatchObject({ status: 200, json: { purged: 2 } });
    expect((await call("GET", "/api/dead-letters")).json).toEqual([]);
    expect((await call("DELETE", "/api/dead-letters")).json).toEqual({ purged: 0 });
  });
});
