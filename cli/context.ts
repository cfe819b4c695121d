/**
 * What every command is given: the streams, the environment, the global options (--stack,
 * --profile, --region, --local, --yes), and lazily the AWS clients, the stack and the local run.
 * `runCommand` turns a command's result or error into its exit code.
 */
import { type AwsClients, awsClients } from "./aws.ts";
import { DEFAULT_LOCAL_URL, type LocalRun, localRun } from "./local.ts";
import { CliError, type CliStreams, EXIT, escapedStream } from "./output.ts";
import { type Env, lookUpStack, type Stack, stackNameFrom } from "./stack.ts";

export interface GlobalOptions {
  stack?: string;
  profile?: string;
  region?: string;
  /** `true` for the default URL. */
  local?: string | boolean;
  yes?: boolean;
}

export interface CliContext extends CliStreams {
  env: Env;
  options: GlobalOptions;
  aws(): AwsClients;
  stack(): Promise<Stack>;
  /** The local run when --local was given, else undefined. */
  local: LocalRun | undefined;
  /** Sleeps; tests may shorten it. */
  sleep(ms: number): Promise<void>;
}

export function createContext(
  streams: CliStreams,
  options: GlobalOptions = {},
  env: Env = process.env,
): CliContext {
  let aws: AwsClients | undefined;
  let stack: Promise<Stack> | undefined;
  const ctx: CliContext = {
    ...streams,
    // Every human line escapes control characters (values come from SSM, files, queues, servers).
    stdout: escapedStream(streams.stdout),
    stderr: escapedStream(streams.stderr),
    env,
    options,
    aws: () => {
      aws ??= awsClients({ profile: options.profile, region: options.region, env });
      return aws;
    },
    stack: () => {
      stack ??= lookUpStack(ctx.aws(), stackNameFrom(options.stack, env));
      return stack;
    },
    local: options.local
      ? localRun(typeof options.local === "string" ? options.local : DEFAULT_LOCAL_URL)
      : undefined,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return ctx;
}

/** Runs a command: its exit code, or the error's, after writing the error to stderr. */
export async function runCommand(ctx: CliStreams, command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof CliError) {
      ctx.stderr.write(`mm-email: ${error.message}\n`);
      return error.code;
    }
    ctx.stderr.write(`mm-email: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.aws;
  }
}
