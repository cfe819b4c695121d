/**
 * What a test starts is stopped after it: `const { defer, smtpServer } = perTest();` at the top of
 * a file registers one afterEach for everything deferred.
 */
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
  return { defer, smtpServer };
}
