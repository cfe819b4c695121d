/**
 * The console page in a real browser: Debian's chromium driven by playwright-core (no browser
 * download; the run installs chromium when it is missing, test/helpers/browser.ts). A failing test leaves a screenshot in test-results/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  inject,
  it,
  onTestFailed,
} from "vitest";
import { RETRY_POLICY } from "../../lib/notifications/index.ts";
import { SETTING_NAMES } from "../../lib/settings/index.ts";
import { type LocalProduct, startLocalProduct } from "../../local/product.ts";
import { freePort } from "../helpers/ports.ts";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let browser: Browser;
const settingsFile = join(mkdtempSync(join(tmpdir(), "console-")), "none.json");
let product: LocalProduct;
let page: Page;

beforeAll(async () => {
  // The browser project's set-up found the browser, or installed it (test/setup/browser.ts).
  const found = inject("browser");
  if (!found.ok) throw new Error(found.why);
  browser = await chromium.launch({ executablePath: found.path, args: ARGS, headless: true });
  product = await startLocalProduct({
    env: { MM_EMAILSETTINGS_FEEDBACKEMAIL: "noreply@chat.example" },
    settingsFile,
    log: () => {},
  });
});

afterAll(async () => {
  await browser?.close();
  await product?.stop();
});

beforeEach(async (context) => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  onTestFailed(async () => {
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({
      path: join("test-results", `${context.task.name.replace(/\W+/g, "-")}.png`),
      fullPage: true,
    });
  });
  await page.goto(`${product.url}/`);
});

afterEach(async () => {
  await page.close();
});

const field = (name: string) => page.locator(`[data-setting="${name}"]`);

describe("the console", () => {
  it("shows every setting with its value and source, environment values read-only", async () => {
    await expect.poll(() => page.getByLabel("SMTP Server:", { exact: true }).inputValue()).toBe("127.0.0.1");
    expect(await field("SMTPServer").textContent()).toContain("Source: local run: embedded SMTP server");
    expect(await field("SMTPServerTimeout").textContent()).toContain("Source: default");
    const from = page.getByLabel("Notification From Address:");
    expect(await from.inputValue()).toBe("noreply@chat.example");
    expect(await from.isDisabled()).toBe(true);
    expect(await field("FeedbackEmail").textContent()).toContain("set through an environment variable");
    expect(await page.locator("[data-setting]").count()).toBe(SETTING_NAMES.length);
  });

  it("tests the connection against the embedded server and shows every stage passing", async () => {
    await page.getByRole("button", { name: "Test Connection" }).click();
    const result = page.locator("#test-result.ok");
    await result.waitFor();
    expect(await result.textContent()).toContain("No errors were reported");
    for (const stage of ["config", "dns", "connect", "greeting"]) {
      expect(await page.locator(`li[data-stage="${stage}"][data-ok="true"]`).count()).toBe(1);
    }
  });

  it("shows the failing stage for a dead port", async () => {
    await page.getByLabel("SMTP Server Port:").waitFor();
    await page.getByLabel("SMTP Server Port:").fill(String(await freePort()));
    await page.getByRole("button", { name: "Test Connection" }).click();
    await page.locator("#test-result.bad").waitFor();
    expect(await page.locator('li[data-stage="connect"][data-ok="false"]').count()).toBe(1);
    expect(await page.locator("#test-error").textContent()).toMatch(
      /^connect: nothing accepts connections on 127\.0\.0\.1:\d+/,
    );
  });

  it("sends a test notification and shows it, sandboxed, in the captured mail", async () => {
    const subject = `Browser test ${Date.now()}`;
    await page.getByLabel("Subject").fill(subject);
    await page.getByRole("button", { name: "Queue notification" }).click();
    await page.getByText(/^Queued as /).waitFor();
    await page.getByRole("link", { name: "Captured mail" }).click();
    const link = page.getByRole("link", { name: subject });
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await expect.poll(() => page.locator("#mail-subject").textContent()).toBe(subject);
    const frame = page.locator("#mail-html");
    expect(await frame.getAttribute("sandbox")).toBe("");
    expect(await frame.getAttribute("srcdoc")).toContain("<b>mentioned</b>");
    expect(await page.frameLocator("#mail-html").locator("b").textContent()).toBe("mentioned");
    expect(await page.locator("#mail-text").textContent()).toContain("You were mentioned in Town Square.");
    expect(await page.locator("#mail-headers").textContent()).toContain("auto-generated");
  });

  it("shows the Queue panel: a burst draining, the SMTP limits form, and dead letters with their reason", async () => {
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.getByRole("link", { name: "Queue" }).click();
    await expect
      .poll(() => page.locator("#queue-config").textContent(), { timeout: 5000 })
      .toContain("Visibility timeout 30 s");
    expect(await page.locator("#queue-config").textContent()).toContain(
      `dead letter after ${RETRY_POLICY.receiveLimit} receives`,
    );
    const counter = async (name: string) =>
      Number(await page.locator(`[data-counter="${name}"]`).first().textContent());
    await expect
      .poll(() => page.locator('[data-counter="sent"]').textContent(), { timeout: 5000 })
      .toMatch(/^\d+$/);
    const sentBefore = await counter("sent");

    await page.getByLabel("Notifications in the burst:").fill("5");
    await page.getByRole("button", { name: "Queue burst" }).click();
    await expect
      .poll(() => page.locator("#burst-result").textContent(), { timeout: 5000 })
      .toContain("Queued 5 notifications");
    await expect.poll(() => counter("sent"), { timeout: 10_000 }).toBe(sentBefore + 5);
    expect(await counter("captured")).toBeGreaterThanOrEqual(5);
    expect(await page.locator("#q-history .bar").count()).toBeGreaterThan(0);

    // A bad value is refused with the field named, and the field marked.
    await page.getByLabel("Send rate (messages a second):").fill("-1");
    await page.getByRole("button", { name: "Apply limits" }).click();
    await expect
      .poll(() => page.locator("#limits-result.bad").textContent(), { timeout: 5000 })
      .toContain("ratePerSecond");
    expect(await page.locator("#l-rate").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Send rate (messages a second):").fill("50");
    await page.getByLabel("Connections at once:").fill("4");
    await page.getByRole("button", { name: "Apply limits" }).click();
    await expect
      .poll(() => page.locator("#limits-result.ok").textContent(), { timeout: 5000 })
      .toContain("50 messages a second");
    expect(await page.locator("#limits-result").textContent()).toContain("4 connections");
    await expect
      .poll(() => page.locator("#limits-now").textContent(), { timeout: 5000 })
      .toContain("4 connections");
    await page.getByLabel("Send rate (messages a second):").fill("");
    await page.getByLabel("Connections at once:").fill("");
    await page.getByRole("button", { name: "Apply limits" }).click();
    await expect
      .poll(() => page.locator("#limits-now").textContent(), { timeout: 5000 })
      .toContain("no rate limit, no connection limit, up");

    // A record that can never be sent: send-notification dead-letters it with its reason.
    const queued = await page.evaluate(async () => {
      const res = await fetch("/notifications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"subject":"<b>no recipient</b>"}',
      });
      return ((await res.json()) as { messageId: string }).messageId;
    });
    const row = page.locator(`tr[data-dead-letter="${queued}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute("data-by")).toBe("function");
    expect(await row.locator("code").textContent()).toBe("InvalidNotification");
    expect(await row.textContent()).toContain("moved by send-notification");
    expect(violations).toEqual([]);
  });

  // Last: it writes the run's settings file, which the tests above read as they found it.
  it("saves edits to the settings file, checked first; asks before sending a stored password elsewhere", async () => {
    const timeout = page.getByLabel("SMTP Server Timeout:");
    await timeout.waitFor();
    // A refused value: nothing written, the product's own message.
    await timeout.fill("99999");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#save-result.bad").textContent()).toContain("Nothing was saved");
    expect(await page.locator("#save-result").textContent()).toContain("SMTPServerTimeout");
    expect(existsSync(settingsFile)).toBe(false);

    // Valid values: written, and shown with their new source after a reload.
    await timeout.fill("30");
    await page.locator("#f-ConnectionSecurity").selectOption("STARTTLS");
    await page.locator("#f-EnableSMTPAuth-true").check();
    await page.getByLabel("SMTP Server Username:").fill("mailer");
    await page.getByLabel("SMTP Server Password:").fill("console-Pa55");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => page.locator("#save-result.ok").textContent())
      .toMatch(/^Saved .*SMTPServerTimeout/);
    const saved = JSON.parse(readFileSync(settingsFile, "utf8"));
    expect(saved.EmailSettings).toMatchObject({
      SMTPServerTimeout: 30,
      ConnectionSecurity: "STARTTLS",
      EnableSMTPAuth: true,
      SMTPUsername: "mailer",
      SMTPPassword: "console-Pa55",
    });
    await page.reload();
    await expect.poll(() => page.getByLabel("SMTP Server Timeout:").inputValue()).toBe("30");
    expect(await field("SMTPServerTimeout").textContent()).toContain(`Source: settings file ${settingsFile}`);
    expect(await page.getByLabel("SMTP Server Password:").inputValue()).not.toContain("console-Pa55");

    // Another server with the stored password: asked first; dismissed, nothing is written.
    let asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await page.getByLabel("SMTP Server:", { exact: true }).fill("smtp.elsewhere.example");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#save-result.bad").textContent()).toBe("Not saved.");
    expect(asked).toContain(
      "SMTPServer → smtp.elsewhere.example: the stored SMTPPassword would be sent there",
    );
    expect(JSON.parse(readFileSync(settingsFile, "utf8")).EmailSettings.SMTPServer).toBeUndefined();
  });
});
