/**
 * The socket under an SMTP session: DNS resolution, a TCP connection to one of the resolved
 * addresses and, for ConnectionSecurity TLS, the implicit-TLS handshake. Done here rather than
 * by nodemailer so each of these stages is timed, bounded and named on its own (session.ts hands
 * the open socket to nodemailer for the SMTP dialogue). Every timeout is lib/timeouts.ts's
 * ETIMEDOUT error, which classify.ts turns into the stage's message.
 */
import { lookup } from "node:dns/promises";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import type { EmailSettings } from "../settings/index.ts";
import { isTimeout, withTimeout } from "../timeouts.ts";

/** Certificate authorities to trust instead of Node's roots (a private CA; the tests' CA). */
export type CertificateAuthorities = string | Buffer | Array<string | Buffer>;

/** The addresses to try, in the resolver's order; an IP address is its own. */
export async function resolveHost(host: string, ms: number): Promise<string[]> {
  if (isIP(host)) return [host];
  const found = await withTimeout(lookup(host, { all: true }), ms, "DNS lookup");
  return found.map((a) => a.address);
}

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

function openTcp(address: string, port: number, ms: number): Promise<Socket> {
  return whenReady(tcpConnect({ host: address, port }), "connect", ms, "TCP connect");
}

/** Tries each resolved address in turn within the budget; the last error wins. */
export async function connectAny(
  addresses: string[],
  port: number,
  remaining: () => number,
): Promise<Socket> {
  let lastError: unknown = new Error("no address");
  for (const address of addresses) {
    try {
      return await openTcp(address, port, remaining());
    } catch (error) {
      lastError = error;
      if (isTimeout(error)) break;
    }
  }
  throw lastError;
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
