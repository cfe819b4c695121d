/**
 * The mailer's pool (mailer.ts) against real SMTP servers on 127.0.0.1: a batch over one
 * connection, failures that do not take siblings down, fail-fast once the server is unreachable,
 * and close() and mayStart deciding which sends start.
 */
import { describe, expect, it } from "vitest";
import { createMailer } from "../../../lib/smtp/index.ts";
import { type TestCertificates, testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import { startSilentServer } from "../../helpers/smtp-server.ts";
import { message, PASSWORD, settings } from "./fixtures.ts";

const certs: TestCertificates = testCertificates();
const { defer, smtpServer: server } = perTest();

describe("batches", () => {
  it("50 messages go over one connection", async () => {
    const s = await server({ tls: certs.server, users: { mailer: PASSWORD } });
    const mailer = createMailer(
      settings({
        SMTPPort: s.port,
        ConnectionSecurity: "STARTTLS",
        EnableSMTPAuth: true,
        SMTPUsername: "mailer",
        SMTPPassword: PASSWORD,
      }),
      { ca: certs.ca },
    );
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        mailer.send({ ...message, to: `user${i}@example.com`, subject: `n${i}` }),
      ),
    );
    await mailer.close();
    expect(results).toHaveLength(50);
    expect(s.messages).toHaveLength(50);
    expect(s.connections()).toBe(1);
    expect(s.authAttempts).toHaveLength(1);
    expect(mailer.sessionsOpened).toBe(1);
  });

  it("a refused message does not take its siblings down, nor the connection: RSET, and the next goes over it", async () => {
    const s = await server({
      rcptReplies: { "bad@example.com": { code: 550, message: "5.1.1 No such user" } },
    });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    await mailer.send(message);
    await expect(mailer.send({ ...message, to: "bad@example.com" })).rejects.toMatchObject({
      stage: "rcpt",
      transient: false,
    });
    await mailer.send(message);
    await mailer.close();
    expect(s.messages).toHaveLength(2);
    expect(s.connections()).toBe(1);
  });

  it("ten records with five bad recipients use one connection, and each bad one is reported permanent", async () => {
    const bad = Object.fromEntries(
      [1, 3, 5, 7, 9].map((i) => [`bad${i}@example.com`, { code: 550, message: "5.1.1 No such user" }]),
    );
    // As a relay with a connection limit would: a second connection would be refused with 421.
    const s = await server({ rcptReplies: bad, limits: { maxConnections: 1 } });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        mailer.send({ ...message, to: i % 2 ? `bad${i}@example.com` : `good${i}@example.com` }),
      ),
    );
    await mailer.close();
    expect(s.messages).toHaveLength(5);
    expect(s.connections()).toBe(1);
    expect(s.limits?.stats.refusedConnections).toBe(0);
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(refused).toHaveLength(5);
    for (const e of refused) expect(e).toMatchObject({ stage: "rcpt", responseCode: 550, transient: false });
  });

  it("ends a session after a 421 (the server is closing), starts nothing more in that batch, and the next batch reconnects", async () => {
    const s = await server({
      rcptReplies: { "closing@example.com": { code: 421, message: "4.7.0 Closing" } },
    });
    const first = createMailer(settings({ SMTPPort: s.port }));
    await expect(first.send({ ...message, to: "closing@example.com" })).rejects.toMatchObject({
      responseCode: 421,
      throttle: true,
    });
    await expect(first.send(message)).rejects.toMatchObject({ name: "NotStartedError", afterThrottle: true });
    await first.close();
    const next = createMailer(settings({ SMTPPort: s.port }));
    await next.send(message);
    await next.close();
    expect(s.messages).toHaveLength(1);
    expect(s.connections()).toBe(2);
  });

  it("once the server cannot be reached, the rest of the batch fails fast", async () => {
    const silent = await startSilentServer();
    defer(() => silent.close());
    const mailer = createMailer(settings({ SMTPPort: silent.port, SMTPServerTimeout: 1 }));
    const started = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => mailer.send(message)));
    await mailer.close();
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    // Five sequential greeting timeouts would take 5 s; one bound for the batch proves fail-fast.
    expect(performance.now() - started).toBeLessThan(4_000);
  });
});

describe("the pool", () => {
  it("keeps sending on its healthy session when the server refuses more connections (421 too many connections)", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const mailer = createMailer(settings({ SMTPPort: s.port }), { poolSize: 3 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => mailer.send({ ...message, to: `user${i}@example.com` })),
    );
    await mailer.close();
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    expect(s.messages).toHaveLength(6);
    expect(s.limits?.stats.refusedConnections).toBeGreaterThan(0); // the pool did try for more
  });

  it("fails only what no session can send: with every connection refused, the batch fails", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const other = createMailer(settings({ SMTPPort: s.port }));
    await other.send(message); // holds the one connection the server allows
    const mailer = createMailer(settings({ SMTPPort: s.port }), { poolSize: 2 });
    const outcomes = await Promise.allSettled([mailer.send(message), mailer.send(message)]);
    await Promise.all([mailer.close(), other.close()]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(outcomes[0]).toMatchObject({ reason: { stage: "greeting", responseCode: 421, throttle: true } });
  });

  it("with the limits unknown, tries a refused connection again in a moment: it goes through once another sender's session ends", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const other = createMailer(settings({ SMTPPort: s.port }));
    await other.send(message); // holds the one connection the server allows, for 400 ms
    setTimeout(() => void other.close(), 400);
    const mailer = createMailer(settings({ SMTPPort: s.port }), {
      reopenRefusedAfterMs: [200, 400, 800],
      random: () => 0.5,
    });
    await expect(mailer.send(message)).resolves.toMatchObject({ response: expect.stringMatching(/^250/) });
    await mailer.close();
    expect(s.limits?.stats.refusedConnections).toBeGreaterThan(0);
    expect(s.messages).toHaveLength(2);
  });

  it("does not try again a connection an outage refused (421 4.3.2 Service not available): that does not free in a moment", async () => {
    const s = await server({ limits: {} });
    s.limits?.setDown(true);
    const mailer = createMailer(settings({ SMTPPort: s.port }), {
      reopenRefusedAfterMs: [50, 50],
      random: () => 0.5,
    });
    await expect(mailer.send(message)).rejects.toMatchObject({ stage: "greeting", responseCode: 421 });
    await mailer.close();
    expect(s.limits?.stats.refusedConnections).toBe(1);
  });

  it("gives up on a refused connection after its waits, as at once without them", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const other = createMailer(settings({ SMTPPort: s.port }));
    await other.send(message); // holds the connection throughout
    const mailer = createMailer(settings({ SMTPPort: s.port }), {
      reopenRefusedAfterMs: [50, 50],
      random: () => 0.5,
    });
    await expect(mailer.send(message)).rejects.toMatchObject({ stage: "greeting", responseCode: 421 });
    await Promise.all([mailer.close(), other.close()]);
    // The first attempt and one a wait.
    expect(s.limits?.stats.refusedConnections).toBe(3);
  });

  it("keeps serving after a failure and an idle drop (slots are never counted twice)", async () => {
    const s = await server({ rcptReplies: { "bad@example.com": { code: 550, message: "No such user" } } });
    const mailer = createMailer(settings({ SMTPPort: s.port, SMTPServerTimeout: 1 }));
    const first = await Promise.allSettled([
      mailer.send({ ...message, to: "bad@example.com" }),
      mailer.send(message),
    ]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    await new Promise((r) => setTimeout(r, 1_300)); // the idle session times out
    const third = await Promise.race([
      mailer.send(message).then(() => "sent"),
      new Promise((r) => setTimeout(() => r("hung"), 5_000)),
    ]);
    await mailer.close();
    expect(third).toBe("sent");
    expect(s.messages).toHaveLength(2);
  });

  it("close() lets sends in flight finish and starts no new connection", async () => {
    const s = await server({ greetingDelayMs: 100 });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    const sends = [mailer.send(message), mailer.send(message), mailer.send(message)];
    await new Promise((r) => setTimeout(r, 20));
    await mailer.close();
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes[0]?.status).toBe("fulfilled");
    expect(outcomes.slice(1).map((o) => o.status === "rejected" && (o.reason as Error).name)).toEqual([
      "NotStartedError",
      "NotStartedError",
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.connections()).toBe(1);
    expect(s.closed()).toBe(1);
  });

  it("asks beforeOpen only before opening a session: its refusal fails the send with no connection", async () => {
    const s = await server();
    const refusing = createMailer(settings({ SMTPPort: s.port }), {
      beforeOpen: async () => {
        throw new Error("the fleet is paused");
      },
    });
    await expect(refusing.send(message)).rejects.toThrow("the fleet is paused");
    await refusing.close();
    expect(s.connections()).toBe(0);

    let asked = 0;
    const paced: number[] = [];
    const mailer = createMailer(settings({ SMTPPort: s.port }), {
      beforeOpen: async () => {
        asked++;
      },
      pace: async () => {
        paced.push(s.connections()); // the session is open when the pace is taken
      },
    });
    await Promise.all([mailer.send(message), mailer.send(message), mailer.send(message)]);
    await mailer.close();
    expect(asked).toBe(1); // one session opened, reused twice
    expect(paced).toEqual([1, 1, 1]);
    expect(s.messages).toHaveLength(3);
  });

  it("starts no send once mayStart says there is no time left", async () => {
    const s = await server();
    let budget = 2;
    const mailer = createMailer(settings({ SMTPPort: s.port }), { mayStart: () => budget-- > 0 });
    const outcomes = await Promise.allSettled([
      mailer.send(message),
      mailer.send(message),
      mailer.send(message),
    ]);
    await mailer.close();
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(s.messages).toHaveLength(2);
  });
});
