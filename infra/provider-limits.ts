/**
 * Provider limits as deployment settings: the fleet-wide send rate and concurrent SMTP
 * connections a provider allows, and what the stack derives from them. (Being filled in: the
 * presets and the derivation. The signature is fixed.)
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

export function deriveSendLimits(_limits: ProviderLimits, poolSize: number): DerivedSendLimits {
  return { poolSize };
}
