/** The alert check's defaults, apart from its code so the functions' environment can read them cheaply. */

/**
 * Bulletins one run may claim and mail at most: a version gets a handful of security bulletins in
 * its life, so more in one run means a wrong or compromised feed (SECURITY_ALERT_MAX_PER_RUN).
 */
export const DEFAULT_MAX_BULLETINS_PER_RUN = 5;
