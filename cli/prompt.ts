/**
 * Reading from the operator: a secret (hidden on a terminal, else the whole of stdin) and a
 * yes/no confirmation, which a non-terminal cannot give: without --yes it refuses (exit 2).
 */
import { CliError, type CliStreams, EXIT } from "./output.ts";

async function readAll(stdin: CliStreams["stdin"]): Promise<string> {
  let text = "";
  for await (const chunk of stdin) text += chunk.toString();
  return text;
}

/** One line typed without echo on a terminal. */
function readHidden(streams: CliStreams, question: string): Promise<string> {
  const { stdin, stderr } = streams;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = "";
    stdin.setRawMode?.(true);
    stdin.resume();
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new CliError(EXIT.usage, "Cancelled"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    stdin.on("data", onData);
  });
}

/**
 * A secret: from a hidden prompt on a terminal, else stdin with one trailing line break removed.
 * A multi-line secret (a PEM key, a JSON key file) is never typed: it must come on stdin.
 */
export async function readSecret(
  streams: CliStreams,
  question: string,
  { multiline = false }: { multiline?: boolean } = {},
): Promise<string> {
  if (streams.stdin.isTTY) {
    if (multiline) {
      throw new CliError(
        EXIT.usage,
        `${question.replace(/ \(not shown\): $/, "")} spans lines: pipe the file on stdin (mm-email settings set NAME < file)`,
      );
    }
    return readHidden(streams, question);
  }
  return (await readAll(streams.stdin)).replace(/\r?\n$/, "");
}

/** True when the operator agrees; `yes` (--yes) agrees without asking. */
export async function confirm(
  streams: CliStreams,
  question: string,
  yes: boolean | undefined,
): Promise<boolean> {
  if (yes) return true;
  if (!streams.stdin.isTTY) {
    throw new CliError(EXIT.usage, `${question} Refusing without a terminal to confirm on: pass --yes`);
  }
  streams.stderr.write(`${question} [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    streams.stdin.resume();
    streams.stdin.once("data", (chunk) => {
      streams.stdin.pause();
      resolve(chunk.toString());
    });
  });
  return /^y(es)?$/i.test(answer.trim());
}
