/**
 * The name this client gives in EHLO. The reference server uses its site URL's host, else
 * `localhost`; relays with `reject_non_fqdn_helo_hostname` (common on submission ports) refuse
 * `localhost` with `504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname`,
 * every message. So without a site URL the default is the sender's own domain (FeedbackEmail's),
 * a fully qualified name the operator controls and that a strict relay accepts.
 */
import { isIP } from "node:net";
import type { EmailSettings } from "../settings/index.ts";

/** The EHLO name when none is configured: FeedbackEmail's domain. */
export function defaultEhloName(settings: EmailSettings): string {
  return settings.FeedbackEmail.split("@")[1]?.toLowerCase() || "localhost";
}

/** The reference's EHLO name: its site URL's host; undefined when the site URL is unset or not a URL. */
export function siteUrlHost(siteUrl: string | undefined): string | undefined {
  if (!siteUrl) return undefined;
  try {
    return new URL(siteUrl).hostname || undefined;
  } catch {
    return undefined; // not a URL
  }
}

/** The name the functions give in EHLO: the site URL's host, else FeedbackEmail's domain. */
export function ehloNameFor(settings: EmailSettings, siteUrl: string | undefined): string {
  return siteUrlHost(siteUrl) ?? defaultEhloName(settings);
}

/** A name with at least two labels, not localhost and not a bare IP address (an IP is sent as [a.b.c.d]). */
export function isFullyQualified(name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  if (isIP(host) || host === "localhost" || host.endsWith(".localhost") || host.endsWith(".localdomain")) {
    return false;
  }
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host);
}
