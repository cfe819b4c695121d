/**
 * Defence in depth for any text that crosses lib/'s edge (a server's reply, a library's error, a
 * token endpoint's explanation): every form of a secret the caller names is replaced by a mask.
 */
const MASK = "[redacted]";

/** Below this length a secret is scrubbed as a whole word only: as a substring it is everywhere. */
const WHOLE_WORD_BELOW = 3;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    out =
      secret.length >= WHOLE_WORD_BELOW
        ? out.split(secret).join(MASK)
        : out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(secret)}(?![\\p{L}\\p{N}])`, "gu"), MASK);
  }
  return out;
}
