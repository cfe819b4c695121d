/**
 * A security bulletin's HTML takes the notifications' path to a text part (the mailer composes it
 * with html-to-text.ts), so it meets the same output budget: a bulletin whose text would be too big
 * to write fails at once, with the rule, and is never sent, while the run's other bulletins are.
 * Against a local bulletin feed over HTTP and a real SMTP server.
 */
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../lib/logger.ts";
import {
  memorySentStore,
  runSecurityAlertCheck,
  SecurityAlertRunError,
} from "../../../lib/security-alerts/index.ts";
import { createMailer } from "../../../lib/smtp/index.ts";
import { startFeedServer } from "../../helpers/feed-server.ts";
import { perTest } from "../../helpers/per-test.ts";
import { settings } from "./fixtures.ts";

const { defer, smtpServer } = perTest();
const VERSION = "10.5.1";

describe("a security bulletin whose text would be too big to write", () => {
  it("fails alone, naming the rule, and is not sent; the run's other bulletin is", async () => {
    const smtp = await smtpServer();
    const feed = await startFeedServer();
    defer(() => feed.close());
    feed.bulletins.push(
      { id: "MMSA-2026-001", applies_to_version: VERSION },
      { id: "MMSA-2026-002", applies_to_version: VERSION },
    );
    feed.html["MMSA-2026-001"] = "<h1>Security update</h1><blockquote><p>Upgrade to 10.5.2.</p></blockquote>";
    // 200 KB: a `<pre>` of one-character lines in 50 quotes, each line written 50 times over.
    feed.html["MMSA-2026-002"] =
      `${"<blockquote>".repeat(50)}<pre>${"x\n".repeat(100_000)}</pre>${"</blockquote>".repeat(50)}`;
    const s = settings({ SMTPPort: smtp.port, FeedbackEmail: "noreply@chat.example" });
    const store = memorySentStore();

    const failure = await runSecurityAlertCheck({
      settings: s,
      config: () => ({
        feedUrl: feed.url,
        appVersion: VERSION,
        recipients: ["admin1@example.com", "admin2@example.com"],
        recipientsSource: "test",
      }),
      store,
      mailer: () => createMailer(s),
      logger: silentLogger,
    }).catch((error: unknown) => error);

    // The run fails (so its alarm says so), its report naming what was sent and what was not.
    expect(failure).toBeInstanceOf(SecurityAlertRunError);
    const { report } = failure as SecurityAlertRunError;

    expect(report.sent).toEqual(["MMSA-2026-001"]);
    expect(report.failed).toEqual([
      {
        id: "MMSA-2026-002",
        error:
          "Invalid message: html: would convert to more than 8388608 characters of text (its lines × the prefixes of the quotes and lists around them)",
      },
    ]);
    expect(smtp.messages.flatMap((m) => m.to).sort()).toEqual(["admin1@example.com", "admin2@example.com"]);
    const text = (await simpleParser(smtp.messages[0]?.raw ?? Buffer.alloc(0))).text?.trim();
    expect(text).toBe("Security update\n\n> Upgrade to 10.5.2.");
    // Its claim released: the next run tries it again (and refuses it again, as quickly).
    expect(store.entries().map((e) => e.id)).toEqual(["MMSA-2026-001"]);
  });
});
