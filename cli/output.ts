/**
 * What a command prints and how it ends: the documented exit codes, a CliError that carries
 * one, plain-text tables, JSON, and the stderr progress line for anything slower than a second.
 */

/** The exit codes every command uses (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The thing checked failed: invalid settings, a failed connection test, a dead-lettered message. */
  failed: 1,
  /** A usage error: a bad argument or option, a confirmation refused or impossible. */
  usage: 2,
  /** AWS or the network failed: no credentials, no stack, access denied, unreachable. */
  aws: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Each exit code in a few words: --help prints them, docs/cli.md's table explains them (a test keeps the two together). */
export const EXIT_MEANINGS: Readonly<Record<ExitCode, string>> = {
  [EXIT.ok]: "ok",
  [EXIT.failed]: "the thing checked failed",
  [EXIT.usage]: "usage error",
  [EXIT.aws]: "AWS or network error",
};

/** An error a command reports on stderr and ends with `code`. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: ExitCode;
  constructor(code: ExitCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** The streams a command writes to and reads from; tests inject their own. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

/**
 * C0 and C1 control characters (but tab and line feed) as `\u00XX`: a value from SSM, a settings
 * file, a dead letter or a server's reply could otherwise move the cursor, recolour or rewrite
 * what the terminal shows (an escape sequence in a FeedbackName can rewrite the row above it). The
 * escape is also a valid JSON string escape, so JSON output stays JSON.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
export const escapeControls = (text: string): string =>
  text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** A stream whose every write is escaped; `raw` writes as given (the progress line's own escapes). */
export function escapedStream<T extends { write(text: string): unknown }>(
  stream: T,
): T & { raw(text: string): unknown } {
  return Object.assign(Object.create(stream) as T, {
    write: (text: string) => stream.write(escapeControls(text)),
    raw: (text: string) => stream.write(text),
  });
}

export function printJson(streams: CliStreams, value: unknown): void {
  streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; the header is the first row. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** A value as one line of text: strings as they are, anything else as JSON. */
export const shownValue = (value: unknown): string =>
  typeof value === "string" ? (value === "" ? '""' : value) : JSON.stringify(value);

/**
 * A progress line on stderr: shown only once the work has taken a second, rewritten in place
 * on a terminal, else written at most every ten seconds. `done()` clears it.
 */
export function progress(streams: CliStreams, now: () => number = Date.now) {
  const started = now();
  const tty = Boolean(streams.stderr.isTTY);
  // The line's own cursor moves are ours: they bypass the escaping of everything else.
  const err = streams.stderr as CliStreams["stderr"] & { raw?: (text: string) => unknown };
  const write = (text: string) => (err.raw ? err.raw(text) : err.write(text));
  let lastWritten = 0;
  let shown = false;
  return {
    update(text: string) {
      const t = now();
      if (t - started < 1000) return;
      const elapsed = `${Math.round((t - started) / 1000)} s`;
      if (tty) {
        write(`\r\x1b[2K${escapeControls(text)} (${elapsed})`);
        shown = true;
      } else if (t - lastWritten >= 10_000) {
        write(`${escapeControls(text)} (${elapsed})\n`);
        lastWritten = t;
      }
    },
    done() {
      if (tty && shown) write("\r\x1b[2K");
      shown = false;
    },
  };
}
