/**
 * An HTTP proxy in front of a real server that counts the requests passing through it, by the
 * AWS JSON protocol's X-Amz-Target (e.g. "AmazonSSM.GetParametersByPath"). It lets a test assert
 * how many calls reached SSM without mocking the SDK. `down()` makes it refuse to forward, to
 * play an unreachable endpoint mid-test.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { forward } from "./forward.ts";

export interface CountingProxy {
  endpoint: string;
  count(target?: string): number;
  reset(): void;
  /** While down, requests fail with a dropped connection, like an unreachable endpoint. */
  setDown(down: boolean): void;
  /**
   * Answers the `nth` request (1 for the next) whose X-Amz-Target is `target` with a 400
   * ThrottlingException, as SSM does under load, instead of forwarding it. Counted from now.
   */
  throttleNth(target: string, nth: number): void;
  close(): Promise<void>;
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const up = new URL(upstream);
  const seen: string[] = [];
  let down = false;
  let throttle: { target: string; left: number } | undefined;
  const server = createServer((req, res) => {
    const target = String(req.headers["x-amz-target"] ?? `${req.method} ${req.url}`);
    seen.push(target);
    if (down) {
      req.socket.destroy();
      return;
    }
    if (throttle && throttle.target === target && --throttle.left === 0) {
      throttle = undefined;
      req.resume();
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ __type: "com.amazonaws.ssm#ThrottlingException", message: "Rate exceeded" }));
      return;
    }
    forward(up, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: (target) => (target ? seen.filter((t) => t === target).length : seen.length),
    reset: () => {
      seen.length = 0;
    },
    setDown: (value) => {
      down = value;
    },
    throttleNth: (target, nth) => {
      throttle = { target, left: nth };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
