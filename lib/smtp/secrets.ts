/**
 * Defence in depth: whatever a server or a library puts in a reply or an error message, the SMTP
 * password never leaves lib/ in any form it travels in: raw, base64 (AUTH LOGIN) or inside the
 * base64 AUTH PLAIN token.
 */
const MASK = "[redacted]";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export function secretForms(password: string, username = ""): string[] {
  if (password === "") return [];
  const forms = [
    password,
    b64(password),
    b64(`\0${username}\0${password}`),
    b64(`${username}\0${username}\0${password}`),
  ];
  return [...new Set(forms)];
}

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
