/**
 * Regenerates the README's console screenshots (docs/*.png) from a real local run:
 *   node scripts/screenshot-console.ts      (needs Debian's chromium at /usr/bin/chromium)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startLocalProduct } from "../local/product.ts";

const product = await startLocalProduct({
  env: {
    MM_EMAILSETTINGS_FEEDBACKNAME: "Mattermost",
    MM_EMAILSETTINGS_FEEDBACKEMAIL: "noreply@chat.example",
  },
  settingsFile: join(mkdtempSync(join(tmpdir(), "shot-")), "none.json"),
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
  await page.screenshot({ path: "docs/console.png", fullPage: true });

  await page.getByRole("button", { name: "Queue notification" }).click();
  await page.getByText(/^Queued as /).waitFor();
  await page.getByRole("link", { name: "Captured mail" }).click();
  const link = page.getByRole("link", { name: "Hello from the local run" });
  await link.waitFor();
  await link.click();
  await page.frameLocator("#mail-html").locator("b").waitFor();
  await page.screenshot({ path: "docs/captured-mail.png", fullPage: true });
} finally {
  await browser.close();
  await product.stop();
}
console.log("wrote docs/console.png and docs/captured-mail.png");
