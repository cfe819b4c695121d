/**
 * Imported first by every handler's entry, so it runs before the function's code is parsed: the
 * cold start's I/O overlaps with loading the code that will use it. The SMTP connection first
 * (node:net only): the server's greeting delay is the longest wait. Then the settings' SSM read,
 * whose module loads node:http(s) only when it sends.
 */
import { prefetchStoredParameters } from "../lib/settings/prefetch.ts";
import { parsePreconnectHint, preconnectSmtp } from "../lib/smtp/preconnect.ts";

const hint = parsePreconnectHint(process.env.SMTP_PRECONNECT);
if (hint) preconnectSmtp(hint.host, hint.port);
prefetchStoredParameters(process.env);
