/**
 * A TCP proxy on 127.0.0.1 that records what the client said, line by line, so a test can see
 * the commands a session sent (RSET, QUIT) to a real server behind it. Plain text only: put it in
 * front of servers without TLS.
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net";

export interface TranscriptProxy {
  port: number;
  /** Client lines so far, per connection, in order. */
  sessions: string[][];
  close(): Promise<void>;
}

export async function startTranscriptProxy(targetPort: number): Promise<TranscriptProxy> {
  const sessions: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const lines: string[] = [];
    sessions.push(lines);
    let partial = "";
    const upstream = tcpConnect({ host: "127.0.0.1", port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      partial += chunk.toString("latin1");
      const parts = partial.split("\r\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
