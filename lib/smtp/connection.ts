/**
 * The socket under an SMTP session: DNS resolution, a TCP connection to one of the resolved
 * addresses (Node's happy eyeballs: each address gets a short attempt, IPv6 and IPv4 interleaved,
 * so a routed-but-filtered IPv6 does not eat the whole timeout) and, for ConnectionSecurity TLS,
 * the implicit-TLS handshake. Done here rather than
 * by nodemailer so each of these stages is timed, bounded and named on its own (session.ts hands
 * the open socket to nodemailer for the SMTP dialogue). Every timeout is lib/timeouts.ts's
 * ETIMEDOUT error, which classify.ts turns into the stage's message.
 */
import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import type { EmailSettings } from "../settings/index.ts";
import { withTimeout } from "../timeouts.ts";

/** Certificate authorities to trust instead of Node's roots (a private CA; the tests' CA). */
export type CertificateAuthorities = string | Buffer | Array<string | Buffer>;

/** Resolves a host name to every address it has (the system resolver by default). */
export type HostResolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: HostResolver = (host) => lookup(host, { all: true });

/** The addresses to try, in the resolver's order; an IP address is its own. */
export async function resolveHost(
  host: string,
  ms: number,
  resolver: HostResolver = systemResolver,
): Promise<LookupAddress[]> {
  const family = isIP(host);
  if (family) return [{ address: host, family }];
  return withTimeout(resolver(host), ms, "DNS lookup");
}

/**
 * How long one address gets before the next is tried as well (RFC 8305 suggests 250 ms; Node's
 * default is 250 ms too). The whole connect is still bounded by what is left of SMTPServerTimeout.
 */
export const CONNECT_ATTEMPT_MS = 250;

/**
 * The socket once it emits `ready` ("connect", "secureConnect"), within `ms`: on an error or the
 * timeout it is destroyed, so no half-open socket outlives a failed step.
 */
function whenReady<S extends Socket>(socket: S, ready: string, ms: number, what: string): Promise<S> {
  const settled = new Promise<S>((resolve, reject) => {
    socket.once(ready, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      socket.destroy();
      reject(error);
    });
  });
  return withTimeout(settled, ms, what, () => socket.destroy());
}

/**
 * A TCP connection to one of `addresses` within the budget: Node's own happy eyeballs
 * (`autoSelectFamily`), each attempt given CONNECT_ATTEMPT_MS before the next address starts too,
 * the first to connect wins. The addresses were resolved by resolveHost (the `dns` stage), and are
 * handed to Node through `lookup`, so the resolution is not done twice.
 */
export function connectAny(
  addresses: LookupAddress[],
  port: number,
  remaining: () => number,
): Promise<Socket> {
  const [first] = addresses;
  if (!first) return Promise.reject(new Error("no address"));
  const socket =
    addresses.length === 1
      ? tcpConnect({ host: first.address, port })
      : tcpConnect({
          // Any name: Node asks `lookup` for it, and gets the addresses already resolved.
          host: "smtp-server.invalid",
          port,
          lookup: ((_host: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
            callback(null, addresses)) as never,
          autoSelectFamily: true,
          autoSelectFamilyAttemptTimeout: CONNECT_ATTEMPT_MS,
        });
  return whenReady(socket, "connect", remaining(), "TCP connect");
}

/** The TLS options for both implicit TLS (upgradeToTls) and STARTTLS (nodemailer's `tls`). */
export function tlsOptions(
  settings: EmailSettings,
  ca: CertificateAuthorities | undefined,
): ConnectionOptions {
  return {
    rejectUnauthorized: !settings.SkipServerCertificateVerification,
    ...(ca === undefined ? {} : { ca }),
    ...(isIP(settings.SMTPServer) ? {} : { servername: settings.SMTPServer }),
    minVersion: "TLSv1.2",
  };
}

/** The implicit-TLS handshake over a connected socket, the certificate checked against SMTPServer. */
export function upgradeToTls(
  socket: Socket,
  settings: EmailSettings,
  ca: CertificateAuthorities | undefined,
  ms: number,
): Promise<TLSSocket> {
  // `host` is what the certificate is checked against; servername is only the SNI.
  const secure = tlsConnect({ socket, host: settings.SMTPServer, ...tlsOptions(settings, ca) });
  return whenReady(secure, "secureConnect", ms, "TLS handshake");
}
