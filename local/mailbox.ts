/**
 * The local run's embedded SMTP server: accepts every message on 127.0.0.1 and keeps it, parsed,
 * for the console's mail view. Plain SMTP, no auth: it stands in for a real server.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface CapturedMail {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  headers: Array<{ name: string; value: string }>;
  text: string;
  html: string | null;
  size: number;
}

export interface Mailbox {
  port: number;
  messages: CapturedMail[];
  /** Called with each message as it arrives. */
  onMessage(listener: (mail: CapturedMail) => void): void;
  close(): Promise<void>;
}

const MAX_KEPT = 500;

export async function startMailbox({ port = 0 }: { port?: number } = {}): Promise<Mailbox> {
  const messages: CapturedMail[] = [];
  const listeners: Array<(mail: CapturedMail) => void> = [];
  let nextId = 1;
  const server = new SMTPServer({
    logger: false,
    // No reverse DNS per connection: nothing leaves the machine, and greetings come at once.
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await simpleParser(raw);
          const mail: CapturedMail = {
            id: nextId++,
            receivedAt: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? "",
            headers: parsed.headerLines.map((h) => ({
              name: h.key,
              value: h.line.slice(h.line.indexOf(":") + 1).trim(),
            })),
            text: parsed.text ?? "",
            html: typeof parsed.html === "string" ? parsed.html : null,
            size: raw.length,
          };
          messages.unshift(mail);
          messages.length = Math.min(messages.length, MAX_KEPT);
          for (const l of listeners) l(mail);
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    port: address.port,
    messages,
    onMessage: (l) => listeners.push(l),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
