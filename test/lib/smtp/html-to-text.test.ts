/**
 * The plain-text part derived from HTML (html-to-text.ts): readable text from a realistic
 * notification, and hostile HTML converted in bounded work. No timing assertions: the test's own
 * timeout is the only clock; test/bench/html-to-text.ts reports the times.
 */
import { describe, expect, it } from "vitest";
import { htmlToText } from "../../../lib/smtp/index.ts";
import { HOSTILE_UNITS, NOTIFICATION_HTML, repeatTo } from "./html-samples.ts";

describe("htmlToText", () => {
  it("turns a table-layout notification into readable text: entities decoded, the link's address kept", async () => {
    const text = await htmlToText(NOTIFICATION_HTML);
    expect(text).toBe(
      [
        "Chat",
        "",
        "",
        "Renée mentioned you in ~town-square",
        "",
        "Hi Alex, here’s what you missed while you were away:",
        "",
        "- 3 new messages in Town Square",
        "- 1 reply to your thread “Q3 plan”",
        "",
        "Tea & biscuits at 4 pm.",
        "",
        "View message (https://chat.example.com/team/pl/abc123)",
        "",
        "Status:",
        "Away",
        "",
        "You’re receiving this because of your notification settings: https://chat.example.com/settings/notifications",
        "",
        "© 2026 Example Inc.",
      ].join("\n"),
    );
    expect(text).not.toMatch(/&(?:[a-z]+|#\d+);/i); // every entity decoded
    expect(text).not.toMatch(/\u00a0/); // &nbsp; is a plain space in text
    expect(text).not.toMatch(/font-family|New mention|\.png|\.gif/); // no style, head or image URLs
  });

  it("turns blocks into lines, keeps links, decodes entities and drops the head and scripts", async () => {
    expect(
      await htmlToText(
        "<html><head><title>T</title><style>p{}</style></head><body><h1>Title</h1><p>Fish &amp; chips&nbsp;&#8364;5 &lt;3</p>" +
          '<ul><li>one</li><li>two</li></ul><a href="https://x.example/a">Open</a><br>end<script>alert(1)</script></body></html>',
      ),
    ).toBe("Title\n\nFish & chips €5 <3\n\n- one\n- two\n\nOpen (https://x.example/a)\nend");
  });

  it("shows an address once when it is the label, and an image by its alt text", async () => {
    expect(
      await htmlToText(
        '<p><a href="https://x.example/">https://x.example/</a> <a href="mailto:ops@x.example">ops@x.example</a></p>' +
          '<p><img src="https://x.example/logo.png" alt="Logo"> <a href="https://x.example/y"></a></p>',
      ),
    ).toBe("https://x.example/ ops@x.example\n\nLogo https://x.example/y");
  });

  it("never drops the head's content into a document without a body", async () => {
    expect(await htmlToText("<title>T</title><style>p{}</style><p>text</p><script>x()</script>")).toBe(
      "text",
    );
  });

  it.each(Object.entries(HOSTILE_UNITS))("converts 256 KB of %s and returns", async (_name, unit) => {
    const text = await htmlToText(repeatTo(unit, 256 * 1024));
    expect(typeof text).toBe("string");
  });

  it("never derives a text part longer than a caller's own text may be", async () => {
    // 30,000 rules of 40 dashes, 5,000 under each of six elements (within maxChildNodes).
    const text = await htmlToText(`<div>${"<hr>".repeat(5000)}</div>`.repeat(6));
    expect(text.length).toBeLessThanOrEqual(1024 * 1024 + 4);
    expect(text.endsWith("\n...")).toBe(true);
  });
});
