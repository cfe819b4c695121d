/**
 * A client ends its sessions with QUIT, as RFC 5321 asks and relays log: after a failure that
 * ends a session, when a batch's mailer closes, and when a kept session's keep-alive is over.
 * A proxy in front of a real server records what the client said.
 */
import { describe, expect, it } from "vitest";
import { createMailer, createSessionKeeper } from "../../../lib/smtp/index.ts";
import { perTest } from "../../helpers/per-test.ts";
import { startTranscriptProxy } from "../../helpers/transcript-proxy.ts";
import { message, settings } from "./fixtures.ts";

const { defer, smtpServer } = perTest();

async function recorded(options: Parameters<typeof smtpServer>[0] = {}) {
  const s = await smtpServer(options);
  const proxy = await startTranscriptProxy(s.port);
  defer(() => proxy.close());
  return { s, proxy };
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
};
const commands = (lines: string[]) => lines.map((l) => l.split(" ")[0]?.toUpperCase());

describe("QUIT", () => {
  it("is said when a batch's mailer closes its sessions", async () => {
    const { proxy } = await recorded();
    const mailer = createMailer(settings({ SMTPPort: proxy.port }));
    await mailer.send(message);
    await mailer.close();
    await until(() => proxy.sessions[0]?.includes("QUIT") ?? false);
    expect(commands(proxy.sessions[0] ?? []).at(-1)).toBe("QUIT");
  });

  it("is not needed after a 550 (RSET, and the session goes on), nor possible after a 421 (the server closed)", async () => {
    const { proxy } = await recorded({
      rcptReplies: {
        "gone@example.com": { code: 550, message: "5.1.1 No such user" },
        "closing@example.com": { code: 421, message: "4.7.0 Closing" },
      },
    });
    const mailer = createMailer(settings({ SMTPPort: proxy.port }));
    await expect(mailer.send({ ...message, to: "gone@example.com" })).rejects.toMatchObject({
      responseCode: 550,
    });
    await mailer.send(message);
    await expect(mailer.send({ ...message, to: "closing@example.com" })).rejects.toMatchObject({
      responseCode: 421,
    });
    await mailer.close();
    const said = commands(proxy.sessions[0] ?? []);
    expect(said.filter((c) => c === "RSET")).toHaveLength(1); // after the 550, the session went on
    expect(said.filter((c) => c === "QUIT")).toHaveLength(0); // the 421 closed it: nothing to say
    expect(proxy.sessions).toHaveLength(1);
  });

  it("is said when a kept session's keep-alive is over", async () => {
    const { proxy } = await recorded();
    const keeper = createSessionKeeper({ maxIdleMs: 200 });
    const mailer = createMailer(settings({ SMTPPort: proxy.port }), { keeper });
    await mailer.send(message);
    await mailer.close();
    expect(keeper.size).toBe(1);
    await until(() => proxy.sessions[0]?.includes("QUIT") ?? false);
    expect(commands(proxy.sessions[0] ?? []).at(-1)).toBe("QUIT");
    expect(keeper.size).toBe(0);
  });
});
