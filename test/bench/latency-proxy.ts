/**
 * A TCP proxy on 127.0.0.1 that puts a network's round trip between a client and a local server,
 * so loopback benchmarks see what a real network costs. Nagle is off on both sides (each write
 * goes out at once, as the client and server meant it), and every chunk waits half the round
 * trip in each direction, in order.
 *
 * The connection itself costs one round trip, as TCP's handshake does: whatever the client sends
 * at once is held until then, and the server is dialled half a round trip in, so a greeting the
 * server sends on accept reaches the client one round trip after connecting, as on a real network.
 *
 * `roundTrips()` counts, per connection, the handshake and each time the client speaks after the
 * server did (a request after a reply): what a protocol costs in round trips, summed over
 * connections (connections that run at once overlap; the caller knows which do).
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net";

export interface LatencyProxy {
  port: number;
  roundTrips(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startLatencyProxy(
  target: { host: string; port: number },
  rttMs: number,
): Promise<LatencyProxy> {
  const half = rttMs / 2;
  let trips = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const opened = performance.now();
    const establishedAt = opened + rttMs;
    client.setNoDelay(true);
    sockets.add(client);
    trips++;
    let lastSpeaker: "client" | "server" = "server"; // the first request is a new round trip
    let upstream: Socket | undefined;
    const early: Buffer[] = [];
    const after = (ms: number, run: () => void) => setTimeout(run, Math.max(0, ms));
    const closeBoth = () => {
      client.destroy();
      upstream?.destroy();
    };

    after(half, () => {
      if (client.destroyed) return;
      upstream = tcpConnect({ host: target.host, port: target.port });
      upstream.setNoDelay(true);
      sockets.add(upstream);
      const up = upstream;
      up.on("data", (chunk: Buffer) => {
        lastSpeaker = "server";
        const at = Math.max(performance.now() + half, establishedAt);
        after(at - performance.now(), () => client.writable && client.write(chunk));
      });
      up.on("end", () => after(half, () => client.end()));
      up.on("error", closeBoth);
      up.on("close", () => sockets.delete(up));
      for (const chunk of early.splice(0)) up.write(chunk);
    });

    client.on("data", (chunk: Buffer) => {
      if (lastSpeaker === "server") trips++;
      lastSpeaker = "client";
      const at = Math.max(performance.now(), establishedAt) + half;
      after(at - performance.now(), () => {
        if (upstream) upstream.writable && upstream.write(chunk);
        else early.push(chunk);
      });
    });
    client.on("end", () => after(half, () => upstream?.end()));
    client.on("error", closeBoth);
    client.on("close", () => sockets.delete(client));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    roundTrips: () => trips,
    reset: () => {
      trips = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
