/**
 * Provider limits as deployment settings: the fleet-wide send rate and concurrent SMTP
 * connections a provider allows (a named preset, context `provider`, and/or explicit
 * `maxSendRate` and `maxConnections`, which override the preset's), and what the stack derives
 * from them: the SQS event source's maximum concurrency, each container's SMTP pool and each
 * container's share of the rate. Pure arithmetic, apart from CDK, so every rule has one home and
 * a unit test (test/infra/provider-limits.test.ts); docs/delivery.md shows the presets' figures.
 */

export interface ProviderLimits {
  /** Messages a second the whole fleet may send; undefined: no limit. */
  maxSendRate?: number;
  /** SMTP connections the whole fleet may hold at once; undefined: no limit. */
  maxConnections?: number;
}

export interface DerivedSendLimits {
  /** The SQS event source's maximumConcurrency (at least 2); undefined: Lambda's own limit. */
  maxConcurrency?: number;
  /** SMTP connections one container's batch may use (NOTIFICATION_POOL_SIZE). */
  poolSize: number;
  /** One container's share of the rate, messages a second (SEND_RATE_PER_SECOND); undefined: none. */
  perContainerRate?: number;
}

/** A preset: the provider's limits, and where they come from (for docs/delivery.md). */
export interface ProviderPreset extends ProviderLimits {
  /** Where the figures come from, and why these. */
  readonly source: string;
}

/**
 * The presets. Each limit is the whole fleet's: every send-notification container together. The
 * alert check and the connection test send too, outside these figures: a preset leaves them a
 * connection where the provider counts connections.
 */
const PRESETS = {
  /**
   * Amazon SES in the sandbox: a maximum send rate of 1 message a second (and 200 a day), per
   * account and region (SES developer guide, "Service quotas in Amazon SES"). SES limits the
   * rate, not SMTP connections: above it, `454 Throttling failure: Maximum sending rate exceeded.`
   */
  "ses-sandbox": {
    maxSendRate: 1,
    source:
      "Amazon SES sandbox: 1 message a second per account and region (SES service quotas); connections are not limited",
  },
  /**
   * Amazon SES out of the sandbox: 14 messages a second is the rate a new production account
   * starts at; SES raises it with the account's use, or on request, and the operator then sets
   * `maxSendRate` to the account's figure (the SES console's "Sending limits", or
   * `aws sesv2 get-account`).
   */
  "ses-production": {
    maxSendRate: 14,
    source:
      "Amazon SES production: 14 messages a second, the rate a production account starts at; set maxSendRate to your account's rate once SES raises it",
  },
  /**
   * Microsoft 365 (Exchange Online) over SMTP AUTH: about 30 messages a minute per mailbox (the
   * sending limits of Exchange Online) and 3 concurrent connections per mailbox to
   * smtp.office365.com. 30 a minute is 0.5 a second. The two containers Lambda needs hold 2 of
   * the 3 connections, leaving one to the connection test and the alert check.
   */
  "microsoft-365": {
    maxSendRate: 0.5,
    maxConnections: 3,
    source:
      "Exchange Online sending limits: 30 messages a minute per mailbox, and 3 concurrent SMTP AUTH connections per mailbox",
  },
  /**
   * Google Workspace (smtp.gmail.com, or smtp-relay.gmail.com): Google documents daily limits
   * (2,000 messages a user a day through smtp.gmail.com, 10,000 through the SMTP relay) and, for
   * the relay, an organisation's 10-minute window, but no rate a second and no connection count;
   * too many connections are refused (`421 4.4.5 Server busy`, `421 4.7.0 Try again later,
   * closing connection`). Conservative figures: 1 message a second (3,600 an hour: a burst
   * drains steadily instead of arriving at once), and 3 connections, Microsoft's documented
   * figure, since Google publishes none (two containers hold 2, one is left to the alert check and
   * the connection test). No rate a second can enforce a daily quota without making every burst
   * wait for hours: the daily quota stays the operator's to watch.
   */
  "google-workspace": {
    maxSendRate: 1,
    maxConnections: 3,
    source:
      "Google documents daily quotas (2,000 a user through smtp.gmail.com, 10,000 through the relay) but no rate a second or connection count: 1 a second and 3 connections are chosen to stay clear of 421 4.4.5 Server busy",
  },
  /**
   * A Postfix relay with its defaults: anvil allows smtpd_client_connection_count_limit = 50
   * connections from one client (`421 4.7.0 Error: too many connections from ...`), and
   * smtpd_client_message_rate_limit = 0, no rate limit. Functions in a VPC behind one NAT
   * gateway are one client to it, so the fleet takes 40 and leaves 10 for the alert check, the
   * connection test and other clients behind the same address.
   */
  postfix: {
    maxConnections: 40,
    source:
      "Postfix defaults: smtpd_client_connection_count_limit = 50, no message rate limit; 40 leaves 10 connections of headroom",
  },
  /** No rate, no connection limit: Lambda scales the consumer as SQS asks (the default). */
  unlimited: {
    source: "no limit: Lambda scales send-notification as the queue fills, as before limits existed",
  },
} as const satisfies Record<string, ProviderPreset>;

export type ProviderName = keyof typeof PRESETS;
export const PROVIDER_PRESETS: Readonly<Record<ProviderName, ProviderPreset>> = PRESETS;
export const PROVIDER_NAMES = Object.keys(PRESETS) as ProviderName[];
/** The preset when context names none: existing deployments keep their behaviour. */
export const DEFAULT_PROVIDER: ProviderName = "unlimited";

/** Messages one SMTP connection sends a second at real round trips (about 100 ms a message). */
export const MESSAGES_PER_CONNECTION_PER_SECOND = 10;
/** Lambda's SQS event source: maximumConcurrency is from 2 to 1000. */
export const MIN_MAX_CONCURRENCY = 2;
export const MAX_MAX_CONCURRENCY = 1000;
/** The rate's bounds, messages a second: 0.001 is about 86 a day. */
export const MIN_SEND_RATE = 0.001;
export const MAX_SEND_RATE = 100_000;
/** Per-container rates are rounded down to this many decimals (SEND_RATE_PER_SECOND is decimal). */
const RATE_DECIMALS = 6;

/** Each context key's rule, as its error states it (infra/config.ts uses the same words). */
export const LIMIT_RULES = {
  maxSendRate: `must be messages a second, above 0: from ${MIN_SEND_RATE} to ${MAX_SEND_RATE} (fractions allowed: 0.5 is 30 a minute)`,
  maxConnections: `must be a whole number of connections, at least ${MIN_MAX_CONCURRENCY} (Lambda's SQS maximumConcurrency is at least ${MIN_MAX_CONCURRENCY}, and every container holds a connection)`,
} as const;

/** A limit broke its rule: the message names the context key, its value and the rule. */
export class ProviderLimitsError extends Error {
  override readonly name = "ProviderLimitsError";
}

export const isValidSendRate = (n: number): boolean =>
  Number.isFinite(n) && n >= MIN_SEND_RATE && n <= MAX_SEND_RATE;
export const isValidMaxConnections = (n: number): boolean => Number.isInteger(n) && n >= MIN_MAX_CONCURRENCY;

/** Throws a ProviderLimitsError naming the first context key whose value breaks its rule. */
export function checkProviderLimits(limits: ProviderLimits): void {
  const { maxSendRate, maxConnections } = limits;
  if (maxSendRate !== undefined && !isValidSendRate(maxSendRate)) {
    throw new ProviderLimitsError(`context maxSendRate: ${maxSendRate} ${LIMIT_RULES.maxSendRate}`);
  }
  if (maxConnections !== undefined && !isValidMaxConnections(maxConnections)) {
    throw new ProviderLimitsError(`context maxConnections: ${maxConnections} ${LIMIT_RULES.maxConnections}`);
  }
}

/** The limits in force: the preset's (default `unlimited`), each overridden by an explicit value. */
export function resolveProviderLimits(settings: {
  provider?: ProviderName | undefined;
  maxSendRate?: number | undefined;
  maxConnections?: number | undefined;
}): ProviderLimits {
  const name = settings.provider ?? DEFAULT_PROVIDER;
  const preset: ProviderPreset | undefined = PROVIDER_PRESETS[name];
  if (!preset) {
    throw new ProviderLimitsError(
      `context provider: ${name} is not a preset; known: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  const maxSendRate = settings.maxSendRate ?? preset.maxSendRate;
  const maxConnections = settings.maxConnections ?? preset.maxConnections;
  const limits: ProviderLimits = {
    ...(maxSendRate !== undefined ? { maxSendRate } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
  };
  checkProviderLimits(limits);
  return limits;
}

/** `rate / containers`, rounded down to RATE_DECIMALS, so that `containers × share ≤ rate` holds. */
function shareOf(rate: number, containers: number): number {
  const scale = 10 ** RATE_DECIMALS;
  // The epsilon absorbs float noise just under a decimal boundary (0.15 computed as 0.1499…9).
  let units = Math.floor((rate / containers) * scale + 1e-6);
  while (units > 0 && (units / scale) * containers > rate) units--;
  return units / scale;
}

/** A rate as SEND_RATE_PER_SECOND reads it: a plain decimal (never `5e-7`), without trailing zeros. */
export function formatRate(rate: number): string {
  return rate.toFixed(RATE_DECIMALS).replace(/\.?0+$/, "");
}

/**
 * What the stack derives from the provider's limits, given `poolSize`, the operator's upper
 * bound for one container's SMTP pool (context notificationPoolSize).
 *
 * With C the connection limit, R the rate limit, P the pool and N the containers (the event
 * source's maximumConcurrency), the fleet must keep N × P ≤ C and N × r ≤ R, r being one
 * container's share of the rate. The reasoning:
 *
 * 1. N is at least 2: Lambda's maximumConcurrency cannot be lower. So a connection limit first
 *    bounds the pool: P = min(poolSize, floor(C / 2)), at least 1 since C ≥ 2, so that two
 *    containers fit. Without a connection limit, P = poolSize.
 * 2. The connection limit then bounds N: N ≤ floor(C / P), and Lambda's 1000 bounds it too.
 * 3. How many containers are useful: one SMTP connection sends about 10 messages a second at
 *    real round trips, so a container with P connections sends about 10 × P, and a rate R needs
 *    N = ceil(R / (10 × P)) containers; more would only each wait longer for their share. With
 *    no rate limit, every container the connections allow is useful: N = floor(C / P), at most
 *    1000. N is then raised to 2 and lowered to the bound of step 2 (more than R needs is not
 *    possible when the connections allow fewer: the fleet then sends what its connections can).
 * 4. Each container's share is r = R / N, rounded down to a millionth (a plain decimal for
 *    SEND_RATE_PER_SECOND), so N × r ≤ R.
 * 5. A pool larger than its container's share can use only holds connections open: with a rate
 *    limit, P is lowered to ceil(r / 10), at least 1. (N × P only shrinks, so N × P ≤ C holds.)
 *
 * With neither limit, nothing is derived: no maxConcurrency (Lambda scales as the queue asks),
 * the pool is `poolSize`, and no rate is set, as before limits existed.
 */
export function deriveSendLimits(limits: ProviderLimits, poolSize: number): DerivedSendLimits {
  checkProviderLimits(limits);
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ProviderLimitsError(
      `context notificationPoolSize: ${poolSize} must be a whole number, at least 1`,
    );
  }
  const { maxSendRate: R, maxConnections: C } = limits;
  if (R === undefined && C === undefined) return { poolSize };

  // 1. Two containers must fit the connections.
  let pool = C === undefined ? poolSize : Math.min(poolSize, Math.floor(C / MIN_MAX_CONCURRENCY));
  // 2. The most containers the connections (and Lambda) allow.
  const most = Math.min(MAX_MAX_CONCURRENCY, C === undefined ? MAX_MAX_CONCURRENCY : Math.floor(C / pool));
  // 3. The containers the rate can use, or all the connections allow.
  const useful = R === undefined ? most : Math.ceil(R / (MESSAGES_PER_CONNECTION_PER_SECOND * pool));
  const containers = Math.min(most, Math.max(MIN_MAX_CONCURRENCY, useful));
  if (R === undefined) return { maxConcurrency: containers, poolSize: pool };

  // 4. Each container's share, rounded down.
  const perContainerRate = shareOf(R, containers);
  // 5. No more connections than that share can use.
  pool = Math.min(pool, Math.max(1, Math.ceil(perContainerRate / MESSAGES_PER_CONNECTION_PER_SECOND)));
  return { maxConcurrency: containers, poolSize: pool, perContainerRate };
}
