/** Passes one HTTP request on to a real server and its answer back: the test proxies' common part. */
import { type IncomingMessage, request, type ServerResponse } from "node:http";

/** Forwards `req` to `upstream` (its body already read, or piped when not given) and pipes the answer to `res`. */
export function forward(upstream: URL, req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  out.on("error", () => res.destroy());
  if (body === undefined) req.pipe(out);
  else out.end(body);
}
