/** The local run (local/product.ts) on a free port for a test, stopped after it. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { type CliContext, createContext, type GlobalOptions } from "../../cli/context.ts";
import { type LocalProduct, type LocalProductOptions, startLocalProduct } from "../../local/product.ts";
import { type Captured, capture } from "./fixture.ts";

export function localRuns() {
  const started: LocalProduct[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });
  return async (options: Partial<LocalProductOptions> = {}) => {
    const dir = await mkdtemp(join(tmpdir(), "mm-email-cli-local-"));
    const settingsFile = join(dir, "local-settings.json");
    const product = await startLocalProduct({
      env: {},
      settingsFile,
      visibilityTimeoutMs: 1000,
      delayScale: 0.001,
      log: () => {},
      ...options,
    });
    started.push(product);
    return {
      product,
      settingsFile,
      cli(stdinText = "", globals: GlobalOptions = {}): Captured & { ctx: CliContext } {
        const c = capture(stdinText);
        return { ...c, ctx: createContext(c.streams, { local: product.url, ...globals }, {}) };
      },
    };
  };
}
