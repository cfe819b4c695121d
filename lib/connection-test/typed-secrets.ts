/**
 * A secret typed into a connection test (SMTPPassword, the OAuth2 client secret, certificate or
 * service account key) is as secret as a saved one, wherever else in the request the caller pasted
 * it too: into SMTPUsername, SMTPServer, a setting's invalid value, a field that does not exist. A
 * setting's rule quotes the value it refuses and the answer repeats the settings tested, so the
 * secrets are read from the body as soon as it is JSON, before any check can quote it, in every
 * form they could come back in; and what the test answers is scrubbed of them, field by field.
 */
import { PASSWORD_MASK, SECRET_SETTINGS } from "../settings/index.ts";
import { scrub, secretForms } from "../smtp/index.ts";

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/;

/** The private key inside a certificate's PEM or a service account's JSON key, as it is stored and used. */
function privateKeysIn(name: string, text: string): string[] {
  const keys: string[] = [];
  if (name === "OAuth2ServiceAccountKey") {
    try {
      const key = (JSON.parse(text) as { private_key?: unknown } | null)?.private_key;
      if (typeof key === "string") keys.push(key);
    } catch {
      // not JSON: the key is the text itself, registered whole
    }
  }
  for (const pem of [text, ...keys]) {
    const block = PEM_PRIVATE_KEY.exec(pem.replace(/\\n/g, "\n"))?.[0];
    if (block) keys.push(block);
  }
  return keys;
}

/**
 * Every form of every secret the request body types: whole and trimmed, the password as SMTP AUTH
 * sends it (with the typed username, else `username`: the one the test will use), a key's private
 * key. `body` is the body as parsed, before the schema checks it: anything, a refused body's too.
 * The mask and empty values are not secrets.
 */
export function typedSecrets(body: unknown, username = ""): string[] {
  const settings = (body as { settings?: unknown } | null)?.settings;
  if (typeof settings !== "object" || settings === null) return [];
  const given = settings as Record<string, unknown>;
  const user = given.SMTPUsername;
  const typedUser = typeof user === "string" || typeof user === "number" ? String(user) : username;
  const forms = new Set<string>();
  for (const name of SECRET_SETTINGS) {
    const value = given[name];
    if (typeof value !== "string" && typeof value !== "number") continue;
    const text = String(value);
    if (text.trim() === "" || text === PASSWORD_MASK) continue;
    for (const form of [text, text.trim()]) forms.add(form);
    if (name === "SMTPPassword") for (const form of secretForms(text, typedUser)) forms.add(form);
    for (const key of privateKeysIn(name, text)) forms.add(key);
  }
  return [...forms];
}

/** `value` with every string in it (object keys too) scrubbed of `secrets`; numbers and booleans as they are. */
export function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return scrub(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [scrub(k, secrets), walk(inner)]));
    }
    return v;
  };
  return walk(value) as T;
}
