/**
 * Sessions kept between warm invocations: reused while fresh and alive, never trusted blindly.
 * Real smtp-server on 127.0.0.1; connections counted at the server.
 */
import { describe, expect, it } from "vitest";
import { createMailer, createSessionKeeper, type SessionKeeper } from "../../../lib/smtp/index.ts";
import { perTest } from "../../helpers/per-test.ts";
import { message, settings } from "./fixtures.ts";

const { defer, smtpServer: server } = perTest();

function keeperFor(options: Parameters<typeof createSessionKeeper>[0] = {}): SessionKeeper {
  const keeper = createSessionKeeper(options);
  defer(() => keeper.closeAll());
  return keeper;
}

/** One "invocation": a mailer for one batch, closed at its end. */
async function batch(s: ReturnType<typeof settings>, keeper: SessionKeeper, to = "user@example.com") {
  const mailer = createMailer(s, { keeper });
  try {
    return await mailer.send({ ...message, to });
  } finally {
    await mailer.close();
  }
}

describe("createSessionKeeper", () => {
  it("reuses one connection across batches while it is fresh", async () => {
    const s = await server();
    const keeper = keeperFor();
    const cfg = settings({ SMTPPort: s.port });
    for (let i = 0; i < 3; i++) await batch(cfg, keeper, `u${i}@example.com`);
    expect(s.messages).toHaveLength(3);
    expect(s.connections()).toBe(1);
    expect(keeper.size).toBe(1);
  });

  it("closes a session idle longer than maxIdleMs instead of reusing it", async () => {
    const s = await server();
    let t = 0;
    const keeper = keeperFor({ maxIdleMs: 1_000, now: () => t });
    const cfg = settings({ SMTPPort: s.port });
    await batch(cfg, keeper);
    t += 1_001;
    await batch(cfg, keeper);
    expect(s.connections()).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.closed()).toBe(1);
  });

  it("notices a connection the server dropped while idle, and sends over a new one", async () => {
    const s = await server({ socketTimeoutMs: 150 });
    const keeper = keeperFor({ probeAfterMs: 0 });
    const cfg = settings({ SMTPPort: s.port });
    await batch(cfg, keeper);
    await new Promise((r) => setTimeout(r, 400)); // the server times the idle session out
    const result = await batch(cfg, keeper, "after@example.com");
    expect(result.accepted).toEqual(["after@example.com"]);
    expect(s.connections()).toBe(2);
  });

  it("never hands a session to a batch with other settings", async () => {
    const a = await server();
    const b = await server();
    const keeper = keeperFor();
    await batch(settings({ SMTPPort: a.port }), keeper);
    await batch(settings({ SMTPPort: b.port }), keeper);
    expect([a.messages.length, b.messages.length]).toEqual([1, 1]);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.closed()).toBe(1); // the old session was closed, not leaked
  });
});
