/**
 * Regenerates the console screenshots in docs/ (console.png, captured-mail.png, queue.png) from
 * a real local run:
 *   npm run screenshots [-- DIR]      (DIR: where to write them, default docs; needs Debian's
 *                                     chromium at /usr/bin/chromium, and npm's Node 24)
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startLocalProduct } from "../local/product.ts";

const dir = process.argv[2] ?? "docs";
mkdirSync(dir, { recursive: true });

const product = await startLocalProduct({
  env: {
    MM_EMAILSETTINGS_FEEDBACKNAME: "Mattermost",
    MM_EMAILSETTINGS_FEEDBACKEMAIL: "noreply@chat.example",
  },
  settingsFile: join(mkdtempSync(join(tmpdir(), "shot-")), "none.json"),
  // A demo's pace: back-offs a tenth as long as deployed.
  delayScale: 0.1,
  log: () => {},
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(`${product.url}/`);
  await page.getByLabel("SMTP Server:", { exact: true }).waitFor();
  await page.locator("#test-to").fill("admin@example.com");
  await page.getByRole("button", { name: "Test Connection" }).click();
  await page.locator("#test-result.ok").waitFor();
  await page.locator("#test-result").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(dir, "console.png"), fullPage: true });

  await page.getByRole("button", { name: "Queue notification" }).click();
  await page.getByText(/^Queued as /).waitFor();
  await page.getByRole("link", { name: "Captured mail" }).click();
  const link = page.getByRole("link", { name: "Hello from the local run" });
  await link.waitFor();
  await link.click();
  await page.frameLocator("#mail-html").locator("b").waitFor();
  await page.screenshot({ path: join(dir, "captured-mail.png"), fullPage: true });

  // A burst of 60 against a provider that takes 4 a second over 2 connections, one record that
  // can never be sent, and the panel some seconds into the drain.
  await page.getByRole("link", { name: "Queue" }).click();
  await page.getByLabel("Send rate (messages a second):").fill("4");
  await page.getByLabel("Connections at once:").fill("2");
  await page.getByRole("button", { name: "Apply limits" }).click();
  await page.locator("#limits-result.ok").waitFor();
  await page.evaluate(() => fetch("/notifications", { method: "POST", body: '{"subject":"No recipient"}' }));
  await page.getByLabel("Notifications in the burst:").fill("60");
  await page.getByRole("button", { name: "Queue burst" }).click();
  await page.locator("#burst-result.ok").waitFor();
  const sent = page.locator('[data-counter="sent"]');
  for (let i = 0; i < 600 && Number(await sent.textContent()) < 24; i++) await page.waitForTimeout(100);
  await page.screenshot({ path: join(dir, "queue.png"), fullPage: true });
} finally {
  await browser.close();
  await product.stop();
}
console.log(`wrote ${dir}/console.png, ${dir}/captured-mail.png and ${dir}/queue.png`);
