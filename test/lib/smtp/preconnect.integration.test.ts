/**
 * The cold start's preconnected SMTP socket: adopted by the first session for the same host and
 * port, never for another, and replaced by a fresh connection if it died meanwhile.
 */
import { describe, expect, it } from "vitest";
import {
  createMailer,
  openSmtpSession,
  parsePreconnectHint,
  preconnectSmtp,
  runConnectionCheck,
} from "../../../lib/smtp/index.ts";
import { perTest } from "../../helpers/per-test.ts";
import { message, settings } from "./fixtures.ts";

const { smtpServer: server } = perTest();

async function sendOne(port: number) {
  const mailer = createMailer(settings({ SMTPPort: port }));
  try {
    return await mailer.send(message);
  } finally {
    await mailer.close();
  }
}

describe("preconnectSmtp", () => {
  it("is adopted by the first session for its host and port: one connection, greeting already under way", async () => {
    const s = await server();
    preconnectSmtp("127.0.0.1", s.port);
    await new Promise((r) => setTimeout(r, 150)); // the server's 100 ms greeting delay passes meanwhile
    const stages: Record<string, number> = {};
    const session = await openSmtpSession(settings({ SMTPPort: s.port }), {
      onStage: (stage: string, ms: number) => {
        stages[stage] = ms;
      },
    });
    await session.close();
    expect(s.connections()).toBe(1);
    expect(stages.greeting).toBeLessThan(90); // the wait happened before the session began
  });

  it("is never used by the connection check, which measures a connection of its own", async () => {
    const s = await server();
    preconnectSmtp("127.0.0.1", s.port);
    const result = await runConnectionCheck(settings({ SMTPPort: s.port }));
    expect(result.ok).toBe(true);
    expect(s.connections()).toBe(2);
  });

  it("is not adopted for another port, and the session connects as usual", async () => {
    const hinted = await server();
    const actual = await server();
    preconnectSmtp("127.0.0.1", hinted.port);
    await sendOne(actual.port);
    expect(actual.messages).toHaveLength(1);
    expect(hinted.messages).toHaveLength(0);
  });

  it("falls back to a fresh connection when the preconnected one died", async () => {
    const s = await server({ socketTimeoutMs: 150 }); // closes the silent preconnected socket
    preconnectSmtp("127.0.0.1", s.port);
    await new Promise((r) => setTimeout(r, 500));
    await sendOne(s.port);
    expect(s.messages).toHaveLength(1);
  });
});

describe("parsePreconnectHint", () => {
  it.each([
    ["smtp.example.com:587", { host: "smtp.example.com", port: 587 }],
    ["127.0.0.1:25", { host: "127.0.0.1", port: 25 }],
    ["smtp.example.com", undefined],
    ["host:99999", undefined],
    [undefined, undefined],
  ])("%j → %j", (hint, parsed) => {
    expect(parsePreconnectHint(hint)).toEqual(parsed);
  });
});
