/**
 * Defence in depth: whatever a server or a library puts in a reply or an error message, the SMTP
 * password never leaves lib/ in any form it travels in: raw, base64 (AUTH LOGIN) or inside the
 * base64 AUTH PLAIN token.
 */
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

export { scrub } from "../scrub.ts";
