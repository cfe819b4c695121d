/**
 * The plain-text part derived from HTML (html-to-text.ts): readable text from a realistic
 * notification, hostile HTML converted in bounded work, and HTML whose text would be too big to
 * write refused before it is converted, while long and deeply quoted mail still converts. No
 * timing assertions: the test's own timeout is the only clock; test/bench/html-to-text.ts reports
 * the times.
 */
import { describe, expect, it } from "vitest";
import { htmlToText, InvalidMessageError } from "../../../lib/smtp/index.ts";
import { HOSTILE_UNITS, NOTIFICATION_HTML, repeatTo } from "./html-samples.ts";

/** `inner` inside `depth` of `open` (closed in order). */
const nested = (open: string, close: string, depth: number, inner: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
const QUOTE = ["<blockquote>", "</blockquote>"] as const;
const ITEM = ["<ul><li>", "</li></ul>"] as const;
/** A `<pre>` of `line` repeated to about `bytes` bytes. */
const pre = (bytes: number, line = "x\n") => `<pre>${line.repeat(Math.floor(bytes / line.length))}</pre>`;
/** `unit` repeated to about `bytes` bytes, a hundred to a `<div>` (within maxChildNodes). */
const divs = (unit: string, bytes: number) =>
  `<div>${unit.repeat(100)}</div>`.repeat(Math.ceil(bytes / (unit.length * 100)));

const TOO_BIG =
  /^Invalid message: html: would convert to more than \d+ characters of text \(its lines × the prefixes of the quotes and lists around them\)$/;

/** A reply chain: `depth` nested quotes, each with a "wrote:" line and `paragraphs` of 60 characters. */
function replyChain(depth: number, paragraphs: number): string {
  const level = (i: number) =>
    `<div>On Mon, 2 Mar 2026, user${i}@example.com wrote:</div>` +
    `<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do ${i}</p>`.repeat(paragraphs);
  return (
    nested("", "", 0, Array.from({ length: depth }, (_, i) => `${level(i)}<blockquote>`).join("")) +
    `${level(depth)}${"</blockquote>".repeat(depth)}`
  );
}

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

describe("htmlToText on HTML whose text would be too big to write", () => {
  // Each took seconds and hundreds of MB before it was refused (test/bench/html-to-text.ts):
  // the library rewrites a quote's or a list item's every line with its prefix, at every level.
  it.each([
    ["a <pre> of short lines in 50 quotes, 255 KB", nested(...QUOTE, 50, pre(255_000))],
    ["empty lines in 50 nested list items, 64 KB", nested(...ITEM, 50, pre(64_000, "\n"))],
    [
      "lines in 50 ordered lists numbered from 10^14, 32 KB",
      nested('<ol start="100000000000000"><li>', "</li></ol>", 50, pre(32_000, "\n")),
    ],
    ["<br>-broken lines in 50 quotes, 100 KB", nested(...QUOTE, 50, divs("x<br>", 100_000))],
    ["paragraphs in 50 quotes, 160 KB", nested(...QUOTE, 50, divs("<p>x</p>", 160_000))],
    ["1 MiB of <hr> (40 dashes each)", divs("<hr>", 1024 * 1024)],
  ])("refuses %s as an invalid message, naming the rule", async (_name, html) => {
    const refused = await htmlToText(html).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidMessageError);
    expect((refused as InvalidMessageError).message).toMatch(TOO_BIG);
  });

  it("refuses HTML the library itself fails on as an invalid message, not a crash to retry", async () => {
    // Roman numbering past 9999 is a TypeError inside the library.
    const refused = await htmlToText('<ol type="i" start="10000"><li>x</li></ol>').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidMessageError);
    expect((refused as InvalidMessageError).message).toMatch(
      /^Invalid message: html: could not be converted to text \(TypeError: /,
    );
  });

  it("still converts a long reply chain: 45 quotes deep, 30 paragraphs each", async () => {
    const text = await htmlToText(replyChain(45, 30));
    const deepest = text.split("\n").filter((line) => line.endsWith("sed do 45"));
    expect(deepest).toHaveLength(30);
    expect(deepest[0]).toBe(
      `${"> ".repeat(45)}Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do 45`,
    );
  });

  it("still converts 1 MiB of a notification's body quoted 3 deep, and 1 MiB of code lines in a list item", async () => {
    const body = NOTIFICATION_HTML.replace(/^[\s\S]*<body>|<\/body>[\s\S]*$/g, "");
    const quoted = await htmlToText(nested(...QUOTE, 3, repeatTo(body, 1024 * 1024 - 100)));
    expect(quoted.startsWith("> > > Chat")).toBe(true);
    const code = await htmlToText(nested(...ITEM, 1, pre(1024 * 1024 - 100, `${"x".repeat(79)}\n`)));
    expect(code.split("\n").slice(0, 2)).toEqual([`- ${"x".repeat(79)}`, `  ${"x".repeat(79)}`]);
  });

  it("still converts lists nested 60 deep, 10 items each", async () => {
    const item = "<li>An item of about forty characters here</li>".repeat(10);
    const text = await htmlToText(nested(`<ol>${item}<li>`, "</li></ol>", 60, "last"));
    // " 11. " at the top, "11. " below (the library trims a nested list's prefix), each indenting the next.
    expect(text.endsWith(`\n${" ".repeat(5 + 4 * 58)}11. last`)).toBe(true);
  });
});
