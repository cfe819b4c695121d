/**
 * The plain-text part of a message given as HTML only, for mail clients that do not render HTML.
 * The `html-to-text` library does the work (every HTML entity, real parsing, tables and lists);
 * this file configures it for mail and bounds its cost on hostile HTML: HTML whose text would be
 * too big to write is refused as an InvalidMessageError (no retry can help it), before converting.
 *
 * Loaded on first use: only a message with HTML and no text needs it, so a cold start that sends
 * none pays nothing to evaluate it (esbuild still bundles it into the same file unless the bundle
 * is code-split).
 *
 * One file of about 350 lines: the budget's estimate walks the same token stream as the parse it
 * bounds, element by element as html-to-text would write it, so the two stay side by side.
 */
import type { HtmlToTextOptions } from "html-to-text";
import type { Tokenizer, TokenizerCallbacks } from "htmlparser2";
import { InvalidMessageError } from "./errors.ts";

const MiB = 1024 * 1024;

/**
 * Bounds, each for one way HTML can cost more than its size:
 *
 * - maxInputLength 2 Mi characters: a backstop for direct callers. A validated message's html is
 *   at most MESSAGE_LIMITS.htmlBytes (1 MiB, so at most 1 Mi characters): never truncated.
 * - maxDepth 256: the library walks the tree recursively, and without a bound about 2,000 nested
 *   elements (under 8 KB of unclosed `<b>`) overflow the stack. Mail layouts nest tables in
 *   tables some 30 to 50 levels deep; deeper content is left out, marked "...".
 * - maxChildNodes 10,000: children rendered under one element. A notification's widest element
 *   (a digest's rows, a long text broken with `<br>`) has hundreds; past 10,000 the rest of a
 *   flat run (1 MiB of `<br>` is 262,144) is left out, marked "...".
 */
const LIMITS = { maxInputLength: 2 * MiB, maxDepth: 256, maxChildNodes: 10_000, ellipsis: "..." };

/**
 * Work allowed for the library's parser, in units of "one open element passed by one tag": see
 * withinBudget. 10^8 took at most 75 ms here (for the slowest shape found, `<div></p>`
 * repeated), and is 50 times what 1 MiB of well-formed mail needs (40,000 tags at depth 50).
 * HTML that leaves over some 14,000 elements of one name unclosed (`<p>` without `</p>`) counts
 * as that deep, and is cut there.
 */
const PARSE_BUDGET = 100_000_000;

/** A derived text part is at most as long as a caller's own text may be (MESSAGE_LIMITS.textBytes). */
const MAX_TEXT_CHARS = MiB;

/**
 * Characters the library may write converting one body, as withinBudget counts them: the text,
 * plus the text of each `<blockquote>`, `<ul>` and `<ol>` once more with its prefix on each line
 * (every level rewrites all its lines with "> " or the list's indent). More is refused before
 * converting. A `<pre>` of one-character lines in 50 quotes counts 13 Mi of text and 335 Mi
 * written at 255 KB, and took 2.5 s and 460 MB here (send-notification has 512 MB); at 1 MiB,
 * 19 s and 890 MB.
 *
 * 8 Mi is 8 times the longest text part (MAX_TEXT_CHARS). The costliest HTML found within it
 * (empty lines in 2 nested list items: 700 KB counts 8 Mi; 1 MiB of one-character lines in a
 * quote counts 4 Mi) took 0.3 s and 210 MB at most here, no more than the library takes for
 * 1 MiB of `<p>x</p>` anyway (2 s, 275 MB). Mail stays within it: 1 MiB of a notification's
 * layout quoted 3 deep counts 3.3 Mi, a reply chain 45 quotes deep with 30 paragraphs in each
 * 7.9 Mi (test/lib/smtp/html-to-text.test.ts converts both). 1 MiB of `<hr>` (40 dashes each:
 * 11 Mi) is refused too.
 */
const OUTPUT_BUDGET = 8 * MiB;
const OUTPUT_RULE = `html: would convert to more than ${OUTPUT_BUDGET} characters of text (its lines × the prefixes of the quotes and lists around them)`;

/** What OPTIONS writes for `<hr>` (wordwrap false: 40 dashes), and before each `<ul>` item. */
const HR_CHARS = 40;
const ITEM_PREFIX = "- ";

const LINE = { leadingLineBreaks: 1, trailingLineBreaks: 1 };

const OPTIONS: HtmlToTextOptions = {
  // No line wrapping: mail clients wrap, and a wrapped URL breaks.
  wordwrap: false,
  // Layout mail spaces with &nbsp; (spacer cells, "4&nbsp;pm"): plain spaces in text.
  whitespaceCharacters: " \t\r\n\f\u200b\u00a0",
  limits: LIMITS,
  selectors: [
    // "label (address)"; a link whose label is its address appears once.
    { selector: "a", options: { linkBrackets: ["(", ")"], hideLinkHrefIfSameAsText: true } },
    // An image is its alt text: its src (a logo, a tracking pixel) is noise in text.
    { selector: "img", options: { pathRewrite: () => "" } },
    // Layout tables: each row and cell on a line of its own, never cells run together.
    ...["tr", "td", "th"].map((cell) => ({ selector: cell, format: "block", options: LINE })),
    // Headings as written: uppercasing changes words in some languages (ß becomes SS).
    ...["h1", "h2", "h3", "h4", "h5", "h6"].map((h) => ({ selector: h, options: { uppercase: false } })),
    { selector: "ul", options: { itemPrefix: ITEM_PREFIX } },
    // Without a <body>, the whole document is converted: never the head, a title, styles or scripts.
    ...["head", "title", "style", "script"].map((hidden) => ({ selector: hidden, format: "skip" })),
  ],
};

type Convert = (html: string) => string;
let converter: Promise<Convert> | undefined;

async function load(): Promise<Convert> {
  const [{ compile }, { Tokenizer }] = await Promise.all([import("html-to-text"), import("htmlparser2")]);
  const convert = compile(OPTIONS);
  return (html) => {
    const within = withinBudget(html, Tokenizer);
    let text: string;
    try {
      text = convert(within);
    } catch (error) {
      // The library's own failure on this HTML (`<ol type="i" start="10000">` is a TypeError) is
      // the same on every try: the message's fault, not a reason to send it again.
      throw new InvalidMessageError([`html: could not be converted to text (${String(error)})`]);
    }
    return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}\n${LIMITS.ellipsis}` : text;
  };
}

/**
 * Plain text for `html`: blocks on their own lines, links with their address, entities decoded.
 * Throws InvalidMessageError for HTML whose text would exceed OUTPUT_BUDGET, or that the library
 * cannot convert.
 */
export async function htmlToText(html: string): Promise<string> {
  converter ??= load();
  return (await converter)(html);
}

/** Elements htmlparser2 never keeps open: HTML's void elements, a subset of its own list. */
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);

/**
 * Line breaks OPTIONS writes before and after each block element (the library's defaults, and
 * OPTIONS's own for `tr`, `td`, `th`); every other element is inline, but for `br`.
 */
const BREAKS = new Map<string, readonly [before: number, after: number]>([
  ...["h1", "h2", "h3"].map((tag) => [tag, [3, 2]] as const),
  ...["h4", "h5", "h6", "p", "pre", "blockquote", "ul", "ol", "table", "hr"].map(
    (tag) => [tag, [2, 2]] as const,
  ),
  ...[
    "div",
    "article",
    "aside",
    "footer",
    "form",
    "header",
    "main",
    "nav",
    "section",
    "tr",
    "td",
    "th",
    "li",
  ].map((tag) => [tag, [1, 1]] as const),
]);

/** The elements that put a prefix on each of their lines: a quote's "> ", a list's item indent. */
const PREFIXED = new Set(["blockquote", "ul", "ol"]);

/** One element of PREFIXED, open, with what has been written inside it so far. */
interface Frame {
  tag: string;
  /** Characters inside, nested frames' with their prefixes. */
  chars: number;
  /** Line breaks inside, each one more line to prefix. */
  lines: number;
  /** `<ol>`: its `<li>`s, `start` and `type`, which make its prefix. */
  items: number;
  start?: string;
  type?: string;
}

/**
 * The width of `frame`'s prefix: "> ", the `<ul>`'s item prefix, or what the library writes before
 * an `<ol>` item, " N. ", padded to the widest of the list's (N from `start`, counting up).
 */
function prefixWidth(frame: Frame): number {
  if (frame.tag === "blockquote") return 2;
  if (frame.tag === "ul") return ITEM_PREFIX.length;
  if (frame.tag !== "ol") return 0;
  const first = Number(frame.start || "1");
  const last = first + Math.max(0, frame.items - 1);
  if (frame.type === "i" || frame.type === "I") {
    // Roman up to 3999 is at most 15 letters (MMMDCCCLXXXVIII); past it the library writes
    // "undefined" pieces, at most 18 characters for each of a number's (at most 25) characters.
    return 3 + (Number.isInteger(first) && first >= 0 && last <= 3999 ? 15 : 25 * 18);
  }
  // A number (letters are never longer): an integer's width is its ends'; any other at most 25.
  const width =
    Number.isSafeInteger(first) && Number.isSafeInteger(last)
      ? Math.max(`${first}`.length, `${last}`.length)
      : 25;
  return 3 + width;
}

/**
 * `html`, or the part of it the library parses within PARSE_BUDGET, then "..."; throws
 * InvalidMessageError when its text would exceed OUTPUT_BUDGET.
 *
 * Why the parse budget: htmlparser2, the library's parser, keeps its open elements in an array it
 * grows with unshift and searches with indexOf, so every tag costs time in proportion to the depth
 * reached (fb55/htmlparser2#2481): parsing is quadratic in the nesting. 1 MiB of unclosed `<div>`
 * took 12 s here, of `<b>` 30 s, all before `limits` apply: they bound the walk over the parsed
 * tree, not the parse.
 *
 * Why the output budget: the library writes a `<blockquote>`'s or a list item's text, then
 * rewrites it with the prefix on every line, at every level; none of `limits` bounds that, and a
 * `<pre>` of short lines (or `<br>`s, or `<p>`s) holds a line in every two bytes, so 255 KB in 50
 * quotes is 13 Mi of text through 335 Mi of rewriting (OUTPUT_BUDGET says what it cost). To
 * refuse such HTML, its cost is counted before any of it is paid.
 *
 * How: one linear pass with htmlparser2's own tokenizer, so tags are exactly the ones the parser
 * will see (never one hidden in a comment, an attribute or a script), charging each tag an upper
 * bound on the depth: elements opened and not yet closed by an end tag of their name. An end tag
 * closes at least one element of its name when it closes anything, and implied ends only lower
 * the real depth, so the bound holds; on well-formed HTML it is exact. The same pass counts what
 * the conversion writes, as an upper bound too: every character of text (and of `href` and `alt`,
 * which links and images show), every line break a block, a `<br>`, a newline in a `<pre>` or a
 * list's item can make (the most each can: adjacent blocks' breaks in fact merge), and, as each
 * quote or list closes, its text again with its prefix on each of its lines (a list's item starts
 * a line: any tag directly in a list counts as one). Quotes and lists close as the parser closes
 * them, or later (an end tag of an element around them closes them in the parser, not here).
 */
function withinBudget(html: string, TokenizerClass: typeof Tokenizer): string {
  const open = new Map<string, number>();
  let depth = 0;
  let work = 0;
  let cut = -1;
  const charge = (start: number) => {
    work += depth + 1;
    if (work <= PARSE_BUDGET) return false;
    cut = html.lastIndexOf("<", start);
    tokenizer.pause(); // nothing after the cut is parsed: stop reading
    return true;
  };

  const root: Frame = { tag: "", chars: 0, lines: 0, items: 0 };
  const frames: Frame[] = [];
  const framesOpen = new Map<string, number>();
  let written = 0;
  const top = () => frames.at(-1) ?? root;
  const text = (chars: number) => {
    top().chars += chars;
    written += chars;
  };
  const breaks = (lines: number) => {
    top().lines += lines;
    text(lines);
  };
  const closeFrame = () => {
    const frame = frames.pop() as Frame;
    framesOpen.set(frame.tag, (framesOpen.get(frame.tag) ?? 1) - 1);
    const size = frame.chars + (frame.lines + 1) * prefixWidth(frame);
    written += size;
    top().chars += size;
    top().lines += frame.lines;
  };
  /** A tag directly in a list starts an item, and so a line, when nothing else does. */
  const inList = () => frames.length > 0 && top().tag !== "blockquote";
  const inPre = () => (open.get("pre") ?? 0) > 0;
  let attributes: Frame | undefined; // an `<ol>` whose attributes are being read
  let attribute = "";
  let value = "";

  const name = (start: number, end: number) => html.slice(start, end).toLowerCase();
  const ignore = () => {};
  const callbacks: TokenizerCallbacks = {
    onopentagname(start, end) {
      if (charge(start)) return;
      const tag = name(start, end);
      const [before, after] = BREAKS.get(tag) ?? [tag === "br" ? 1 : inList() ? 1 : 0, 0];
      if (tag === "li" && top().tag === "ol") top().items++;
      if (VOID.has(tag)) {
        breaks(before + after);
        if (tag === "hr") text(HR_CHARS);
        return;
      }
      breaks(before);
      open.set(tag, (open.get(tag) ?? 0) + 1);
      depth++;
      if (PREFIXED.has(tag)) {
        const frame: Frame = { tag, chars: 0, lines: 0, items: 0 };
        frames.push(frame);
        framesOpen.set(tag, (framesOpen.get(tag) ?? 0) + 1);
        if (tag === "ol") attributes = frame;
      }
    },
    onclosetag(start, end) {
      if (charge(start)) return;
      const tag = name(start, end);
      if ((framesOpen.get(tag) ?? 0) > 0) {
        let closed: string | undefined;
        while (closed !== tag) {
          closed = top().tag;
          closeFrame();
        }
      }
      // `</br>` is a `<br>`, and `</p>` with no `<p>` open a `<p></p>`, to the parser.
      const [before, after] = BREAKS.get(tag) ?? [0, tag === "br" ? 1 : inList() ? 1 : 0];
      breaks(after + (tag === "p" ? before : 0));
      const count = open.get(tag) ?? 0;
      if (count === 0) return;
      open.set(tag, count - 1);
      depth--;
    },
    onattribname(start, end) {
      attribute = name(start, end);
      value = "";
    },
    onattribdata(start, end) {
      if (attribute === "href" || attribute === "alt") text(end - start);
      if (attributes) value += html.slice(start, end);
    },
    onattribentity(codepoint) {
      if (attribute === "href" || attribute === "alt") text(2);
      if (attributes) value += String.fromCodePoint(codepoint);
    },
    onattribend() {
      // The first of an attribute's duplicates is the one the parser keeps.
      if (attributes && attribute === "start") attributes.start ??= value;
      if (attributes && attribute === "type") attributes.type ??= value;
    },
    onopentagend() {
      attributes = undefined;
    },
    onselfclosingtag() {
      attributes = undefined;
    },
    ontext(start, end) {
      text(end - start);
      if (!inPre()) return;
      for (let i = html.indexOf("\n", start); i >= 0 && i < end; i = html.indexOf("\n", i + 1)) breaks(1);
    },
    ontextentity(codepoint) {
      text(2);
      if (codepoint === 10 && inPre()) breaks(1);
    },
    oncdata: ignore,
    oncomment: ignore,
    ondeclaration: ignore,
    onend: ignore,
    onprocessinginstruction: ignore,
  };
  // The options html-to-text's parser gives its tokenizer (decodeEntities is its default).
  const tokenizer = new TokenizerClass({ decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  while (frames.length > 0) closeFrame();
  if (written > OUTPUT_BUDGET) throw new InvalidMessageError([OUTPUT_RULE]);
  return cut < 0 ? html : `${html.slice(0, cut)}${LIMITS.ellipsis}`;
}
