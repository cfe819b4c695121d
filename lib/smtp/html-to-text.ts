/**
 * The plain-text part of a message given as HTML only, for mail clients that do not render HTML.
 * The `html-to-text` library does the work (every HTML entity, real parsing, tables and lists);
 * this file configures it for mail and bounds its cost on hostile HTML.
 *
 * Loaded on first use: only a message with HTML and no text needs it, so a cold start that sends
 * none pays nothing to evaluate it (esbuild still bundles it into the same file unless the bundle
 * is code-split).
 */
import type { HtmlToTextOptions } from "html-to-text";
import type { Tokenizer, TokenizerCallbacks } from "htmlparser2";

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
 * withinParseBudget. 10^8 took at most 75 ms here (for the slowest shape found, `<div></p>`
 * repeated), and is 50 times what 1 MiB of well-formed mail needs (40,000 tags at depth 50).
 * HTML that leaves over some 14,000 elements of one name unclosed (`<p>` without `</p>`) counts
 * as that deep, and is cut there.
 */
const PARSE_BUDGET = 100_000_000;

/** A derived text part is at most as long as a caller's own text may be (MESSAGE_LIMITS.textBytes). */
const MAX_TEXT_CHARS = MiB;

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
    { selector: "ul", options: { itemPrefix: "- " } },
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
    const text = convert(withinParseBudget(html, Tokenizer));
    return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}\n${LIMITS.ellipsis}` : text;
  };
}

/** Plain text for `html`: blocks on their own lines, links with their address, entities decoded. */
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
 * `html`, or the part of it the library parses within PARSE_BUDGET, then "...".
 *
 * Why: htmlparser2, the library's parser, keeps its open elements in an array it grows with
 * unshift and searches with indexOf, so every tag costs time in proportion to the depth reached
 * (fb55/htmlparser2#2481): parsing is quadratic in the nesting. 1 MiB of unclosed `<div>` took
 * 12 s here, of `<b>` 30 s, all before `limits` apply: they bound the walk over the parsed tree,
 * not the parse.
 *
 * How: one linear pass with htmlparser2's own tokenizer, so tags are exactly the ones the parser
 * will see (never one hidden in a comment, an attribute or a script), charging each tag an upper
 * bound on the depth: elements opened and not yet closed by an end tag of their name. An end tag
 * closes at least one element of its name when it closes anything, and implied ends only lower
 * the real depth, so the bound holds; on well-formed HTML it is exact.
 */
function withinParseBudget(html: string, TokenizerClass: typeof Tokenizer): string {
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
  const name = (start: number, end: number) => html.slice(start, end).toLowerCase();
  const ignore = () => {};
  const callbacks: TokenizerCallbacks = {
    onopentagname(start, end) {
      if (charge(start)) return;
      const tag = name(start, end);
      if (VOID.has(tag)) return;
      open.set(tag, (open.get(tag) ?? 0) + 1);
      depth++;
    },
    onclosetag(start, end) {
      if (charge(start)) return;
      const tag = name(start, end);
      const count = open.get(tag) ?? 0;
      if (count === 0) return;
      open.set(tag, count - 1);
      depth--;
    },
    onattribdata: ignore,
    onattribentity: ignore,
    onattribend: ignore,
    onattribname: ignore,
    oncdata: ignore,
    oncomment: ignore,
    ondeclaration: ignore,
    onend: ignore,
    onopentagend: ignore,
    onprocessinginstruction: ignore,
    onselfclosingtag: ignore,
    ontext: ignore,
    ontextentity: ignore,
  };
  // The options html-to-text's parser gives its tokenizer (decodeEntities is its default).
  const tokenizer = new TokenizerClass({ decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  return cut < 0 ? html : `${html.slice(0, cut)}${LIMITS.ellipsis}`;
}
