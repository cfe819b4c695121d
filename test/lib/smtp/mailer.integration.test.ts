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

  it("a failed message does not take its siblings down: the next one gets a new connection", async () => {
    const s = await server({ rcptReplies: { "bad@example.com": { code: 550, message: "No such user" } } });
    const mailer = createMailer(settings({ SMTPPort: s.port }));
    await mailer.send(message);
    await expect(mailer.send({ ...message, to: "bad@example.com" })).rejects.toMatchObject({ stage: "rcpt" });
    await mailer.send(message);
    await mailer.close();
    expect(s.messages).toHaveLength(2);
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
