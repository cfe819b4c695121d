/**
 * What a test starts is stopped after it: `const { defer, smtpServer } = perTest();` at the top of
 * a file registers one afterEach for everything deferred.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";
import { startSmtpServer, type TestSmtpServer, type TestSmtpServerOptions } from "./smtp-server.ts";

export function perTest() {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  const defer = (cleanup: () => Promise<void>) => {
    cleanups.push(cleanup);
  };
  /** A real SMTP server on 127.0.0.1, closed after the test. */
  const smtpServer = async (options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> => {
    const s = await startSmtpServer(options);
    defer(() => s.close());
    return s;
  };
  /** A real HTTP server on 127.0.0.1 answering with `handle`, closed (its connections too) after the test. */
  const httpServer = async (handle: RequestListener): Promise<{ server: Server; url: string }> => {
    const server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    defer(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  return { defer, smtpServer, httpServer };
}
