/**
 * Defence in depth: whatever a server or a library puts in a reply or an error message, the SMTP
 * password (raw, or base64 as AUTH PLAIN/LOGIN send it) is replaced before it can leave lib/.
 */
const MASK = "[redacted]";

export function secretForms(password: string): string[] {
  if (password === "") return [];
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return [password, b64(password)].filter((s) => s.length >= 3);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(MASK);
  return out;
}
