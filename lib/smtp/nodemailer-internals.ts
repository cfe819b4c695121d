/**
 * Every use of nodemailer's SMTPConnection beyond its documented API, in one place, so a
 * nodemailer upgrade that changes one fails one test (test/lib/smtp/nodemailer-internals.contract.test.ts,
 * which runs each against the pinned nodemailer and a real SMTP server, naming the internal):
 *
 * - its command primitives, `_sendCommand` and `_responseActions`, which its own reset() and
 *   quit() are built on: SMTPConnection offers no public way to give MAIL and RCPT without DATA,
 *   which is what a connection check needs (dialogue.ts: checkEnvelope);
 * - its transaction log (`transactionLog: true` and a bunyan `logger`): `debug({ tnx: "client" },
 *   command)` for each command line as sent, AUTH's credentials masked, and `debug({ tnx:
 *   "server" }, reply)` for each reply, its lines joined by "\n"; the stage tracking reads it
 *   (stages.ts: replyTracker).
 *
 * Nothing else in lib/ names them.
 */
import type SMTPConnection from "nodemailer/lib/smtp-connection";

/** One line of the transaction log, as the stage tracking reads it. */
export type TransactionLine =
  /** A line the client sent: a command (its verb first) or an AUTH continuation, credentials masked. */
  | { from: "client"; text: string }
  /**
   * A reply, its lines joined by "\n". `status` is the code of its last line when the reply is
   * complete (`250 OK`, `250`); undefined for what is not (a fragment left when the connection closed).
   */
  | { from: "server"; text: string; status: number | undefined };

/** The options that make an SMTPConnection tell `onLine` each line of its transaction log. */
export function transactionLog(
  onLine: (line: TransactionLine) => void,
): Pick<SMTPConnection.Options, "transactionLog" | "logger"> {
  const debug = (entry: { tnx?: unknown } | undefined, text: unknown) => {
    if (typeof text !== "string") return;
    if (entry?.tnx === "client") onLine({ from: "client", text });
    else if (entry?.tnx === "server") onLine({ from: "server", text, status: finalStatus(text) });
  };
  // Every level is given, so nodemailer routes none of its other lines to `debug`.
  const ignore = () => {};
  return {
    transactionLog: true,
    logger: { trace: ignore, debug, info: ignore, warn: ignore, error: ignore, fatal: ignore },
  };
}

/** The reply code of a reply's last line, when that line ends the reply. */
function finalStatus(reply: string): number | undefined {
  const last = /^(\d{3})(?: |$)/.exec(reply.split("\n").pop() ?? "");
  return last ? Number(last[1]) : undefined;
}

/** nodemailer's command primitives: not in its types, not public. */
interface CommandChannel {
  _sendCommand(command: string): void;
  _responseActions: Array<(reply: string) => void>;
}

/** Thrown when the installed nodemailer no longer has the primitives this file relies on. */
export class NodemailerInternalsError extends Error {
  override name = "NodemailerInternalsError";
}

function commandChannel(conn: SMTPConnection): CommandChannel {
  const channel = conn as unknown as Partial<CommandChannel>;
  if (typeof channel._sendCommand !== "function" || !Array.isArray(channel._responseActions)) {
    throw new NodemailerInternalsError(
      `nodemailer ${conn.version ?? "(unknown version)"}'s SMTPConnection has no _sendCommand() and _responseActions[]: lib/smtp/nodemailer-internals.ts must follow its new command primitives`,
    );
  }
  return channel as CommandChannel;
}

/**
 * Sends one command line and hands its reply (whole, lines joined by "\n") to `onReply`, in turn
 * with the replies nodemailer itself awaits. Failures of the connection arrive as its 'error'.
 */
export function sendCommand(conn: SMTPConnection, line: string, onReply: (reply: string) => void): void {
  const channel = commandChannel(conn);
  // In nodemailer's own order (its reset() and quit()): the command, then its reply's action.
  channel._sendCommand(line);
  channel._responseActions.push(onReply);
}
