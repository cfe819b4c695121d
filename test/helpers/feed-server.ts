/** A local security-bulletin feed over real HTTP, with the ways a feed goes wrong. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FeedMode = "ok" | "500" | "malformed" | "huge" | "hang" | "bulletin-500";

export interface FeedServer {
  url: string;
  requests: string[];
  bulletins: Array<{ id: string; applies_to_version: string }>;
  html: Record<string, string>;
  mode: FeedMode;
  close(): Promise<void>;
}

export async function startFeedServer(): Promise<FeedServer> {
  const state = {
    requests: [] as string[],
    bulletins: [] as Array<{ id: string; applies_to_version: string }>,
    html: {} as Record<string, string>,
    mode: "ok" as FeedMode,
  };
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(req.url ?? "");
    if (state.mode === "hang") {
      hanging.add(res);
      return;
    }
    if (req.url === "/security") {
      if (state.mode === "500") return void res.writeHead(500).end("oops");
      if (state.mode === "malformed")
        return void res.writeHead(200, { "content-type": "application/json" }).end("[{");
      if (state.mode === "huge") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          `[${Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ id: `b${i}`, applies_to_version: "0" })).join(",")}]`,
        );
        return;
      }
      return void res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(state.bulletins));
    }
    const match = /^\/bulletins\/([^/]+)$/.exec(req.url ?? "");
    if (match) {
      const id = decodeURIComponent(match[1] ?? "");
      if (state.mode === "bulletin-500" || !(id in state.html))
        return void res.writeHead(state.mode === "bulletin-500" ? 500 : 404).end();
      return void res.writeHead(200, { "content-type": "text/html" }).end(state.html[id]);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as FeedServer;
}
