/**
 * Provider limits for an SMTP server built on smtp-server: a connection limit and a send rate,
 * answered as real relays answer (Postfix's anvil `421 4.7.0 Error: too many connections from
 * <ip>` at the greeting, SES's `454 Throttling failure: Maximum sending rate exceeded.` at MAIL
 * FROM), plus an outage switch (`421 4.3.2 Service not available` at the greeting). The local
 * run's embedded server and the load test's server both use it, so what an operator sees drain on
 * the console is what the load test measures.
 *
 * The rate is a token bucket: `ratePerSecond` tokens a second, at most `burst` saved up (default:
 * one second's worth, at least 1). Every accepted MAIL FROM takes one.
 */
import type { SMTPServerOptions, SMTPServerSession } from "smtp-server";

export interface SmtpLimitsOptions {
  /** Messages a second the server accepts; unset: no limit. */
  ratePerSecond?: number;
  /** Tokens saved up at most. Default max(1, ratePerSecond). */
  burst?: number;
  /** Connections open at once; unset: no limit. */
  maxConnections?: number;
  /** Milliseconds clock. Default performance.now. */
  now?: () => number;
}

export interface SmtpLimits {
  /** Hooks to spread into SMTPServerOptions (they call through to `next` when not refusing). */
  hooks(
    next?: Pick<SMTPServerOptions, "onConnect" | "onClose" | "onMailFrom">,
  ): Pick<SMTPServerOptions, "onConnect" | "onClose" | "onMailFrom">;
  /** Change the limits while running (the console's throttle control). */
  set(options: Omit<SmtpLimitsOptions, "now">): void;
  /** While down, every new connection is refused with 421 (a provider outage). */
  setDown(down: boolean): void;
  readonly stats: { refusedConnections: number; throttledMessages: number; openConnections: number };
}

const refusal = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export function createSmtpLimits(initial: SmtpLimitsOptions = {}): SmtpLimits {
  const now = initial.now ?? (() => performance.now());
  let options: Omit<SmtpLimitsOptions, "now"> = { ...initial };
  let down = false;
  let tokens = 0;
  let refilledAt = now();
  const open = new Set<string>();
  const stats = { refusedConnections: 0, throttledMessages: 0, openConnections: 0 };

  const burst = () => options.burst ?? Math.max(1, options.ratePerSecond ?? 1);
  const takeToken = (): boolean => {
    if (options.ratePerSecond === undefined) return true;
    const t = now();
    tokens = Math.min(burst(), tokens + ((t - refilledAt) / 1000) * options.ratePerSecond);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  tokens = burst();

  return {
    stats,
    set(next) {
      options = { ...next };
      tokens = Math.min(tokens, burst());
    },
    setDown(value) {
      down = value;
    },
    hooks(next = {}) {
      return {
        onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void) {
          if (down) {
            stats.refusedConnections++;
            return callback(refusal(421, "4.3.2 Service not available, closing transmission channel"));
          }
          if (options.maxConnections !== undefined && open.size >= options.maxConnections) {
            stats.refusedConnections++;
            return callback(
              refusal(421, `4.7.0 Error: too many connections from ${session.remoteAddress || "127.0.0.1"}`),
            );
          }
          open.add(session.id);
          stats.openConnections = open.size;
          if (next.onConnect) next.onConnect(session, callback);
          else callback();
        },
        onClose(session: SMTPServerSession, server) {
          open.delete(session.id);
          stats.openConnections = open.size;
          next.onClose?.(session, server);
        },
        onMailFrom(address, session, callback) {
          if (!takeToken()) {
            stats.throttledMessages++;
            return callback(refusal(454, "Throttling failure: Maximum sending rate exceeded."));
          }
          if (next.onMailFrom) next.onMailFrom(address, session, callback);
          else callback();
        },
      };
    },
  };
}
