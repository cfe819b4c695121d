/**
 * A plain-text alternative for HTML-only messages: block elements become line breaks, links
 * keep their address, entities are decoded. Small on purpose: notification HTML is simple, and
 * the text part is a fallback for clients that do not render HTML.
 */
const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === "#") {
      const n =
        body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "")
      .replace(/<!--[\s\S]*?-->/g, "")
      .replace(
        /<a\b[^>]*\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a\s*>/gi,
        (_m, _q, href: string, label: string) => {
          const text = label.replace(/<[^>]*>/g, "").trim();
          return text && text !== href ? `${text} (${href})` : href;
        },
      )
      .replace(/<li\b[^>]*>/gi, "\n- ")
      .replace(/<br\s*\/?>/gi, "\n")
      .replace(
        /<\/?(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre|section|article|header|footer)\b[^>]*>/gi,
        "\n",
      )
      .replace(/<[^>]*>/g, "")
      .replace(/[ \t\f\v]+/g, " "),
  )
    .split("\n")
    .map((line) => line.trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
