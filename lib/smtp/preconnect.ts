/**
 * Cold-start overlap: the TCP connection to the SMTP server (and the server's greeting delay,
 * 100 ms or more at many MTAs) can run while the function's code and settings are still loading.
 * `preconnectSmtp` opens it from a hint; the first session for that host and port adopts it.
 * Nothing is sent before adoption, and an unused socket is closed after a few seconds.
 */
import { connect, type Socket } from "node:net";

const MAX_AGE_MS = 5_000;

interface Slot {
  host: string;
  port: number;
  socket: Socket;
  at: number;
}

let slot: Slot | undefined;

function discard(s: Slot | undefined) {
  s?.socket.destroy();
  if (slot === s) slot = undefined;
}

export function preconnectSmtp(host: string, port: number): void {
  discard(slot);
  const socket = connect({ host, port });
  const s: Slot = { host, port, socket, at: Date.now() };
  socket.once("error", () => discard(s));
  socket.once("close", () => {
    if (slot === s) slot = undefined;
  });
  setTimeout(() => {
    if (slot === s) discard(s);
  }, MAX_AGE_MS).unref();
  slot = s;
}

/**
 * The preconnected socket for exactly this host and port, once, while it is young and open;
 * resolved when connected. Otherwise undefined: connect as usual.
 */
export function takePreconnected(host: string, port: number, timeoutMs: number): Promise<Socket> | undefined {
  const s = slot;
  if (!s || s.host !== host || s.port !== port || s.socket.destroyed || Date.now() - s.at > MAX_AGE_MS)
    return undefined;
  slot = undefined;
  const { socket } = s;
  if (!socket.connecting) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error("TCP connect timed out"), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** "host:port" from SMTP_PRECONNECT, or undefined. */
export function parsePreconnectHint(hint: string | undefined): { host: string; port: number } | undefined {
  const m = hint ? /^(.+):(\d{1,5})$/.exec(hint) : null;
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1] as string, port } : undefined;
}
