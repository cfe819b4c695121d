/**
 * The logging surface lib/ code depends on, and the JSON logger the functions use. Handlers pass
 * in a logger bound to the invocation (service, request id); lib/ never reaches for a global one.
 */
export type LogFields = Record<string, unknown>;
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that drops everything: the default where a caller passes none. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export interface JsonLogger extends Logger {
  /** A logger with more fixed fields and this one's output, scrubbing this one's secrets and its own. */
  child(fields: LogFields): JsonLogger;
  /** Never let this exact string reach this logger's output (nor its children's). */
  addSecret(secret: string): void;
  /** Stop scrubbing a secret this logger was given (one that can no longer be in use). */
  removeSecret(secret: string): void;
}

export interface JsonLoggerOptions {
  /** Fields on every line: service, requestId… */
  fields?: LogFields;
  /** Lowest level written. Default: LOG_LEVEL from the environment, else info. */
  level?: LogLevel;
  /** Where lines go. Default: stdout, one JSON object a line (CloudWatch's format). */
  write?: (line: string) => void;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MASK = "[redacted]";

/** Errors do not serialise to JSON on their own; keep what an operator needs, never the stack's cause chain. */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const json = (value as { toJSON?: () => unknown }).toJSON?.();
    return json ?? { name: value.name, message: value.message };
  }
  return value;
}

export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const envLevel = process.env.LOG_LEVEL?.toLowerCase();
  const threshold = ORDER[options.level ?? (envLevel && envLevel in ORDER ? (envLevel as LogLevel) : "info")];

  /**
   * Each logger scrubs its own secrets and its ancestors'. A secret added to a child (a password
   * typed into one connection test) lives as long as that child, one request, so the set a
   * container scrubs does not grow with every request.
   */
  const make = (fixed: LogFields, inherited: ReadonlyArray<Set<string>>): JsonLogger => {
    const own = new Set<string>();
    const chain = [...inherited, own];
    const emit = (level: LogLevel, message: string, fields?: LogFields) => {
      if (ORDER[level] < threshold) return;
      const entry: LogFields = { level, timestamp: new Date(now()).toISOString(), ...fixed, message };
      for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serialise(value);
      let line = JSON.stringify(entry);
      for (const secrets of chain) {
        for (const secret of secrets) line = line.split(JSON.stringify(secret).slice(1, -1)).join(MASK);
      }
      write(line);
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (fields) => make({ ...fixed, ...fields }, chain),
      // Shorter secrets would mangle every line they happen to occur in; the places a short
      // password can appear (server replies, error messages) scrub it as a whole word instead
      // (lib/smtp/secrets.ts).
      addSecret: (secret) => {
        if (secret.length >= 3) own.add(secret);
      },
      removeSecret: (secret) => {
        own.delete(secret);
      },
    };
  };
  return make(options.fields ?? {}, []);
}
