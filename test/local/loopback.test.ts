/**
 * No web page can drive the local run, read what it holds, or use the tokens and SES stand-ins:
 * the attacks a browser can make on 127.0.0.1 (a cross-site "simple" POST, a name rebound to
 * 127.0.0.1), made with real HTTP requests against a real run; the console's own requests and the
 * command line's still work.
 */

import { mkdtempSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loopbackRefusal } from "../../local/loopback-only.ts";
import { type LocalProduct, startLocalProduct } from "../../local/product.ts";

const running: LocalProduct[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start() {
  const settingsFile = join(mkdtempSync(join(tmpdir(), "loopback-")), "local-settings.json");
  const product = await startLocalProduct({ env: {}, settingsFile, log: () => {} });
  running.push(product);
  return product;
}

/** A raw request, headers as a browser (or an attacker) would set them, Host included. */
function raw(url: string, method: string, headers: Record<string, string>, body?: string) {
  const u = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the local run serves this machine only", () => {
  it("refuses a cross-site simple POST (text/plain, a foreign Origin): nothing is queued", async () => {
    const product = await start();
    const host = new URL(product.url).host;
    const body = JSON.stringify({ to: "victim@example.com", subject: "x", text: "x" });
    const attack = await raw(
      `${product.url}/notifications`,
      "POST",
      { host, origin: "https://evil.example", "content-type": "text/plain" },
      body,
    );
    expect(attack.status).toBe(403);
    const plain = await raw(
      `${product.url}/notifications`,
      "POST",
      { host, "content-type": "text/plain" },
      body,
    );
    expect(plain.status).toBe(403);
    expect(JSON.parse(plain.body).error).toMatch(/content-type: application\/json/);
    const foreign = await raw(
      `${product.url}/notifications`,
      "POST",
      { host, origin: "https://evil.example", "content-type": "application/json" },
      body,
    );
    expect(foreign.status).toBe(403);
    const stats = product.queue.stats();
    expect(stats.sent + stats.visible + stats.inFlight + stats.delayed).toBe(0);
  });

  it("refuses a rebound Host on reads and writes: settings, captured mail, dead letters", async () => {
    const product = await start();
    const rebound = { host: `evil.example:${new URL(product.url).port}` };
    for (const path of ["/api/settings", "/api/mail", "/api/dead-letters", "/api/queue"]) {
      expect((await raw(`${product.url}${path}`, "GET", rebound)).status, path).toBe(403);
    }
    const put = await raw(
      `${product.url}/api/settings/SMTPPort`,
      "PUT",
      { ...rebound, "content-type": "application/json" },
      '{"value":2525}',
    );
    expect(put.status).toBe(403);
  });

  it("serves the console's own requests (same origin, JSON) and the command line's (no Origin)", async () => {
    const product = await start();
    const host = new URL(product.url).host;
    const own = await raw(`${product.url}/api/settings`, "GET", { host, origin: product.url });
    expect(own.status).toBe(200);
    const cli = await raw(
      `${product.url}/notifications`,
      "POST",
      { host, "content-type": "application/json" },
      JSON.stringify({ to: "you@example.com", subject: "Hi", text: "x" }),
    );
    expect(cli.status).toBe(202);
  });

  it("the token endpoint, the SES stand-in and the bulletin feed take no browser's request at all", async () => {
    const product = await start();
    const token = new URL(product.tokenEndpoint.tokenUrl());
    const form = "grant_type=client_credentials&client_id=x&client_secret=y";
    const fromPage = await raw(
      token.href,
      "POST",
      { host: token.host, origin: product.url, "content-type": "application/x-www-form-urlencoded" },
      form,
    );
    expect(fromPage.status).toBe(403);
    const ses = new URL(product.sesEndpoint.url);
    const sesPage = await raw(`${ses.href}v2/email/account`, "GET", {
      host: ses.host,
      origin: "https://evil.example",
    });
    expect(sesPage.status).toBe(403);
    const sesRebound = await raw(`${ses.href}v2/email/account`, "GET", { host: "evil.example" });
    expect(sesRebound.status).toBe(403);
    // The stand-in bulletin feed too: served to this machine's programs only.
    const feed = new URL(product.securityFeed?.url ?? "");
    expect((await raw(`${feed.href}security`, "GET", { host: feed.host })).status).toBe(200);
    expect((await raw(`${feed.href}security`, "GET", { host: "evil.example" })).status).toBe(403);
    expect(
      (await raw(`${feed.href}security`, "GET", { host: feed.host, origin: "https://evil.example" })).status,
    ).toBe(403);
  });
});

describe("a proxy on this machine in front of the token endpoint", () => {
  it("is served only on the ports it was told of", () => {
    const req = (host: string) =>
      ({ headers: { host }, socket: { localPort: 4000 }, method: "POST" }) as unknown as IncomingMessage;
    expect(loopbackRefusal(req("127.0.0.1:5000"), { json: false })).toMatch(/is not this machine's/);
    expect(
      loopbackRefusal(req("127.0.0.1:5000"), { json: false, proxyPorts: new Set([5000]) }),
    ).toBeUndefined();
    expect(loopbackRefusal(req("evil.example:5000"), { json: false, proxyPorts: new Set([5000]) })).toMatch(
      /is not this machine's/,
    );
  });
});
