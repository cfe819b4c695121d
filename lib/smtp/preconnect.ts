/**
 * Cold-start overlap: the TCP connection to the SMTP server (and the server's greeting delay,
 * 100 ms or more at many MTAs) can run while the function's code and settings are still loading.
 * `preconnectSmtp` opens it from a hint; the first session for that host and port adopts it.
 * Nothing is sent before adoption, and an unused socket is closed after a few seconds.
 */
import { connect, type Socket } from "node:net";
import { timeoutError } from "../timeouts.ts";

const MAX_AGE_MS = 5_000;

interface Slot {
  host: string;
  port: number;
  socket: Socket;
  at: number;
}

/**
 * On globalThis: a function's entry bundle and its main bundle each carry a copy of this module,
 * and the entry's socket must reach the main's sessions.
 */
const SLOT = Symbol.for("mattermost-email.smtp-preconnect");
const slots = globalThis as unknown as Record<symbol, Slot | undefined>;
const current = () => slots[SLOT];
const setSlot = (s: Slot | undefined) => {
  slots[SLOT] = s;
};

function discard(s: Slot | undefined) {
  s?.socket.destroy();
  if (current() === s) setSlot(undefined);
}

export function preconnectSmtp(host: string, port: number): void {
  discard(current());
  const socket = connect({ host, port });
  const s: Slot = { host, port, socket, at: Date.now() };
  socket.once("error", () => discard(s));
  socket.once("close", () => {
    if (current() === s) setSlot(undefined);
  });
  setTimeout(() => {
    if (current() === s) discard(s);
  }, MAX_AGE_MS).unref();
  setSlot(s);
}

/**
 * The preconnected socket for exactly this host and port, once, while it is young and open;
 * resolved when connected. Otherwise undefined: connect as usual.
 */
export function takePreconnected(host: string, port: number, timeoutMs: number): Promise<Socket> | undefined {
  const s = current();
  if (!s || s.host !== host || s.port !== port || s.socket.destroyed || Date.now() - s.at > MAX_AGE_MS)
    return undefined;
  setSlot(undefined);
  const { socket } = s;
  if (!socket.connecting) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(timeoutError("TCP connect timed out"));
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
