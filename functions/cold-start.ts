/**
 * The first invocation's I/O, started at init, together: each bundle's entry calls
 * `startColdStartIo` (infra/bundling.ts), so the SMTP server's greeting delay and the settings'
 * SSM read overlap each other and whatever init is left, instead of following one another in the
 * first invocation. The SMTP connection first (node:net only), then the SSM read, whose client
 * loads node:http(s) only when it sends. What they start reaches the function through those
 * modules' own state (lib/smtp/preconnect.ts, lib/settings/prefetch.ts): the first session for
 * that host and port adopts the socket, the first settings load takes the read.
 *
 * Plain parsers only (functions/environment.ts), so the entry stays cheap to start.
 */
import { prefetchStoredParameters } from "../lib/settings/prefetch.ts";
import { preconnectSmtp } from "../lib/smtp/preconnect.ts";
import { type Env, readVariable } from "./environment.ts";

export function startColdStartIo(env: Env): void {
  const hint = readVariable(env, "SMTP_PRECONNECT");
  if (hint) preconnectSmtp(hint.host, hint.port);
  if (readVariable(env, "SETTINGS_PREFETCH")) prefetchStoredParameters(env);
}
