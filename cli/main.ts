#!/usr/bin/env node
/**
 * `mm-email`: the operator's command for a deployed stack (or the local run). The argv wrapper
 * only: each command's work is in cli/commands/, callable from tests; docs/cli.md documents it.
 * One file, over 250 lines, on purpose: it is commander's one tree of commands, each a few lines
 * of options and help text, and reads best whole.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { normalizeArgv } from "./argv.ts";
import { dlqList, dlqPurge, dlqRedrive, dlqShow } from "./commands/dlq.ts";
import { send } from "./commands/send.ts";
import { settingsGet, settingsShow, settingsValidate } from "./commands/settings.ts";
import { settingsExport, settingsImport } from "./commands/settings-file.ts";
import { settingsSet, settingsUnset } from "./commands/settings-write.ts";
import { status } from "./commands/status.ts";
import { connectionTest } from "./commands/test.ts";
import { trace } from "./commands/trace.ts";
import { type CliContext, createContext, type GlobalOptions, runCommand } from "./context.ts";
import { type CliStreams, EXIT, EXIT_MEANINGS } from "./output.ts";

/** `settings set` and `settings import` both write secrets: one option, one help text. */
const KEY_ID_OPTION = [
  "--key-id <key>",
  "KMS key for a secret's SecureString (default: the key it has, else the password's, else aws/ssm)",
] as const;

/** This package's version, which `mm-email --version` prints. */
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

export function buildProgram(
  streams: CliStreams,
  env: NodeJS.ProcessEnv,
  done: (code: number) => void,
): Command {
  const program = new Command("mm-email");
  const ctxOf = (cmd: Command): CliContext =>
    createContext(streams, cmd.optsWithGlobals<GlobalOptions>(), env);
  /** A command's action: run it with its context, hand back its exit code. */
  const act =
    (run: (ctx: CliContext, ...args: never[]) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      // The context too: a bad global option (--local notaurl) is a usage error like any other.
      done(await runCommand(streams, () => run(ctxOf(cmd), ...(args.slice(0, -1) as never[]))));
    };

  program
    .description(
      "Operate a deployed Mattermost email stack: settings, connection test, notifications, queues.",
    )
    .option(
      "--stack <name>",
      "CloudFormation stack (default: MM_EMAIL_STACK, cdk.json context stackName, MattermostEmail)",
    )
    .option("--profile <name>", "AWS profile (default: the standard credential chain)")
    .option("--region <region>", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    .addOption(new Option("--local [url]", "use the local run (npm start) instead of AWS").preset(true))
    .option("-y, --yes", "answer yes to confirmations")
    .version(PACKAGE_VERSION, "-V, --version", "the version of mm-email (this package's)")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) })
    .addHelpText(
      "after",
      `${examples("mm-email settings show", "mm-email --stack Staging --profile ops status --json", "mm-email --local test")}
Exit codes: ${Object.entries(EXIT_MEANINGS)
        .map(([code, meaning]) => `${code} ${meaning}`)
        .join(", ")}.`,
    );

  const settings = program.command("settings").description("Show, check and change the email settings");
  settings
    .command("show")
    .description(
      "Every setting: its value (password masked), source and validity, as the functions resolve them",
    )
    .option("--json", "JSON output")
    .addHelpText("after", examples("mm-email settings show", "mm-email settings show --json"))
    .action(act((ctx, opts: { json?: boolean }) => settingsShow(ctx, opts)));
  settings
    .command("get <name>")
    .description("One setting's effective value on stdout (its source on stderr)")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      examples("mm-email settings get SMTPServer", "mm-email settings get SMTPPort --json"),
    )
    .action(act((ctx, name: string, opts: { json?: boolean }) => settingsGet(ctx, name, opts)));
  settings
    .command("set <name> [value]")
    .description(
      'Store one setting in SSM (--local: the local settings file), checked first ("" deletes it; the password is read from a prompt or stdin)',
    )
    .option(...KEY_ID_OPTION)
    .addHelpText(
      "after",
      examples(
        "mm-email settings set SMTPServer smtp.example.com",
        "mm-email settings set SMTPPort 587",
        "mm-email settings set SMTPPassword            # asks for it, hidden",
        'printf %s "$PW" | mm-email settings set SMTPPassword',
        'mm-email settings set ReplyToAddress ""      # deletes the parameter: the default applies',
      ),
    )
    .action(
      act((ctx, name: string, value: string | undefined, opts: { keyId?: string }) =>
        settingsSet(ctx, name, value, opts),
      ),
    );
  settings
    .command("unset <name>")
    .description("Delete a setting's parameter (--local: remove it from the settings file)")
    .addHelpText("after", examples("mm-email settings unset SMTPUsername"))
    .action(act((ctx, name: string) => settingsUnset(ctx, name)));
  settings
    .command("validate")
    .description("Check the effective settings as the functions would; exit 1 when one is invalid")
    .option("--json", "JSON output")
    .addHelpText("after", examples("mm-email settings validate"))
    .action(act((ctx, opts: { json?: boolean }) => settingsValidate(ctx, opts)));
  settings
    .command("import <file>")
    .description(
      "Store the EmailSettings of a chat server's config.json in SSM (--local: the settings file): shows the changes, writes only those",
    )
    .option("--dry-run", "show the changes, write nothing")
    .option("--verbose", "list each key of the file that is no setting of this product")
    .option(...KEY_ID_OPTION)
    .addHelpText(
      "after",
      examples(
        "mm-email settings import config.json --dry-run",
        "mm-email settings import config.json --yes",
      ),
    )
    .action(
      act((ctx, file: string, opts: { dryRun?: boolean; keyId?: string; verbose?: boolean }) =>
        settingsImport(ctx, file, opts),
      ),
    );
  settings
    .command("export")
    .description('The stored settings in config.json shape ({"EmailSettings": {...}}), without the password')
    .option("-o, --output <file>", "write to a file instead of stdout")
    .addHelpText("after", examples("mm-email settings export > email-settings.json"))
    .action(act((ctx, opts: { output?: string }) => settingsExport(ctx, opts)));

  program
    .command("test")
    .description("Run the connection test (POST /email/test, SigV4-signed) and print its diagnosis")
    .option("--set <name=value...>", "a setting for this test only (nothing is saved)")
    .option("--to <address>", "also send a test message to this address")
    .option("--password-stdin", "the SMTP password for this test, from a prompt or stdin")
    .option(
      "--secret-stdin <name>",
      "this secret (OAuth2ClientSecret…) for this test, from a prompt or stdin",
    )
    .option("--json", "JSON output (the endpoint's answer)")
    .addHelpText(
      "after",
      `${examples(
        "mm-email test",
        "mm-email test --to admin@example.com",
        "mm-email test --set SMTPPort=465 --set ConnectionSecurity=TLS",
        "mm-email --local test --json",
      )}\nExit: 0 the connection works, 1 it does not, 2 a bad request, 3 AWS or network error.\n`,
    )
    .action(
      act(
        (
          ctx,
          opts: {
            set?: string[];
            to?: string;
            passwordStdin?: boolean;
            secretStdin?: string;
            json?: boolean;
          },
        ) => connectionTest(ctx, opts),
      ),
    );

  program
    .command("send")
    .description("Put one notification on the queue, validated as the function validates it")
    .requiredOption("--to <address>", "recipient")
    .requiredOption("--subject <text>", "subject")
    .option("--text <text>", "plain-text body")
    .option("--html <file>", "HTML body from a file")
    .option("--wait", "follow it until it is sent or dead-lettered")
    .option("--timeout <seconds>", "how long --wait waits", "300")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      examples(
        'mm-email send --to you@example.com --subject "Hello" --text "It works." --wait',
        "mm-email send --to you@example.com --subject Report --html report.html",
      ),
    )
    .action(
      act(
        (
          ctx,
          opts: {
            to: string;
            subject: string;
            text?: string;
            html?: string;
            wait?: boolean;
            timeout: string;
            json?: boolean;
          },
        ) => send(ctx, opts),
      ),
    );

  program
    .command("trace [id]")
    .description(
      "What happened to one notification: each attempt's time, outcome, server and reply, from send-notification's logs",
    )
    .option("--to <address>", "every notification to this address instead of one id")
    .option("--hours <n>", "how far back to look (default 24)", Number)
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `${examples(
        "mm-email trace 4f6c2a9e-0b1d-4c3e-9f5a-6b7c8d9e0f1a",
        "mm-email trace '<4f6c2a9e-0b1d-4c3e-9f5a-6b7c8d9e0f1a@chat.example.com>'",
        "mm-email trace --to someone@example.com --hours 72",
      )}\nExit: 1 when no log line mentions it.\n`,
    )
    .action(
      act((ctx, id: string | undefined, opts: { to?: string; hours?: number; json?: boolean }) =>
        trace(ctx, id, opts),
      ),
    );

  program
    .command("status")
    .description(
      "Queue depth and age, in flight, dead letters, alarms, the last alert check, provider limits",
    )
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `${examples("mm-email status", "mm-email status --json")}\nExit: 1 when an alarm is in ALARM.\n`,
    )
    .action(act((ctx, opts: { json?: boolean }) => status(ctx, opts)));

  const dlq = program.command("dlq").description("The dead-letter queue: list, show, redrive, purge");
  dlq
    .command("list")
    .description("Every dead-lettered notification with why it failed")
    .option("--json", "JSON output")
    .addHelpText("after", examples("mm-email dlq list", "mm-email dlq list --json"))
    .action(act((ctx, opts: { json?: boolean }) => dlqList(ctx, opts)));
  dlq
    .command("show <id>")
    .description("One dead letter, whole (by its message id or SourceMessageId)")
    .option("--json", "JSON output")
    .addHelpText("after", examples("mm-email dlq show 4f6c2a9e-…"))
    .action(act((ctx, id: string, opts: { json?: boolean }) => dlqShow(ctx, id, opts)));
  dlq
    .command("redrive [ids...]")
    .description("Send dead letters back to the notification queue (then delete them from the DLQ)")
    .option("--all", "every dead letter")
    .addHelpText("after", examples("mm-email dlq redrive 4f6c2a9e-…", "mm-email dlq redrive --all"))
    .action(act((ctx, ids: string[], opts: { all?: boolean }) => dlqRedrive(ctx, ids, opts)));
  dlq
    .command("purge")
    .description("Delete every dead letter (asks first unless --yes)")
    .addHelpText("after", examples("mm-email dlq purge --yes"))
    .action(act((ctx) => dlqPurge(ctx)));

  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
    });
  }
  return program;
}

/** Parses argv and runs the command: its exit code (help: 0, a usage error: 2). */
export async function main(
  argv: string[],
  streams: CliStreams,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(streams, env, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(normalizeArgv(argv), { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
        ? EXIT.ok
        : EXIT.usage;
    }
    throw error;
  }
  return code;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  });
}
