/**
 * Imported first by every handler, so it runs before the rest of the bundle is evaluated: the
 * cold start's I/O (the settings' SSM read, the TCP connection and greeting of the SMTP server
 * named by SMTP_PRECONNECT) overlaps with loading the code that will use it. Imports nothing heavy.
 */
import { prefetchStoredParameters } from "../lib/settings/prefetch.ts";
import { parsePreconnectHint, preconnectSmtp } from "../lib/smtp/preconnect.ts";

prefetchStoredParameters(process.env);
const hint = parsePreconnectHint(process.env.SMTP_PRECONNECT);
if (hint) preconnectSmtp(hint.host, hint.port);
