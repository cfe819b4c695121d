/**
 * `test`: the deployed connection test (the TestEndpointUrl output, SigV4-signed) or the local
 * run's POST /email/test, with per-test settings, printing each SMTP stage and the warnings.
 */

import { STACK_OUTPUTS } from "../../infra/outputs.ts";
import type { ConnectionTestResponse } from "../../lib/connection-test/index.ts";
import { MULTILINE_SETTINGS, type SettingName } from "../../lib/settings/index.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, printJson, progress, usageError } from "../output.ts";
import { readSecret } from "../prompt.ts";
import { signedPost } from "../signed-fetch.ts";
import { isSecret, PASSWORD, settingName } from "./settings.ts";

export interface TestOptions {
  set?: string[];
  to?: string;
  passwordStdin?: boolean;
  /** A secret setting whose value for this test comes from a prompt or stdin. */
  secretStdin?: string;
  json?: boolean;
}

async function requestBody(ctx: CliContext, options: TestOptions): Promise<Record<string, unknown>> {
  const settings: Record<string, string> = {};
  for (const pair of options.set ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 1)
      throw usageError(`--set ${JSON.stringify(pair)} must be NAME=VALUE, such as --set SMTPPort=587`);
    const name = settingName(pair.slice(0, eq));
    if (name === PASSWORD)
      throw usageError("The SMTP password is never taken from the command line: use --password-stdin");
    if (isSecret(name))
      throw usageError(`${name} is a secret, never taken from the command line: use --secret-stdin ${name}`);
    settings[name] = pair.slice(eq + 1);
  }
  if (options.passwordStdin)
    settings[PASSWORD] = await readSecret(ctx, "SMTP password for this test (not shown): ");
  if (options.secretStdin !== undefined) {
    const name = settingName(options.secretStdin);
    if (!isSecret(name))
      throw usageError(`--secret-stdin ${name}: ${name} is not a secret; use --set ${name}=VALUE`);
    settings[name] = await readSecret(ctx, `${name} for this test (not shown): `, {
      multiline: MULTILINE_SETTINGS.has(name),
    });
  }
  return { ...(Object.keys(settings).length ? { settings } : {}), ...(options.to ? { to: options.to } : {}) };
}

/** What was tested: the SMTP server and how it was signed in to, or SES's API. */
function describeTarget(r: ConnectionTestResponse): string {
  const v = (name: keyof ConnectionTestResponse["settings"]) => r.settings?.[name]?.value;
  if (v("Transport") === "ses") return "Amazon SES's API (the function's role)";
  const auth = v("EnableSMTPAuth") ? `, signing in with ${v("SMTPAuthMethod")}` : "";
  return `${v("SMTPServer")}:${v("SMTPPort")} (${v("ConnectionSecurity") || "no TLS"}${auth})`;
}

async function call(
  ctx: CliContext,
  body: Record<string, unknown>,
): Promise<{ status: number; answer: unknown; where: string }> {
  if (ctx.local) {
    const a = await ctx.local.post("/email/test", body);
    return { status: a.status, answer: a.body, where: `${ctx.local.url}/email/test` };
  }
  const stack = await ctx.stack();
  const url = stack.output(STACK_OUTPUTS.testEndpointUrl);
  const aws = ctx.aws();
  const region = await aws.region();
  const res = await awsCall(`call the connection test at ${url}`, () =>
    signedPost(url, JSON.stringify(body), { credentials: aws.credentials, region }),
  );
  const text = await res.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // kept as text
  }
  return { status: res.status, answer, where: url };
}

/** The endpoint keeps the reference's words ("Please re-enter the SMTP password"); the CLI adds how. */
function reEnterHint(text: string): string {
  const secret = /Please re-enter (the SMTP password|\w+) to test connection/.exec(text)?.[1];
  if (!secret) return "";
  return secret === "the SMTP password"
    ? " Give it on stdin with --password-stdin, e.g. printf '%s' \"$PW\" | mm-email test --set … --password-stdin"
    : ` Give it on stdin with --secret-stdin ${secret}, e.g. mm-email test --set … --secret-stdin ${secret} < ${MULTILINE_SETTINGS.has(secret as SettingName) ? "the-file" : "secret.txt"}`;
}

export async function connectionTest(ctx: CliContext, options: TestOptions = {}): Promise<number> {
  const body = await requestBody(ctx, options);
  const line = progress(ctx);
  const timer = setInterval(() => line.update("testing the SMTP connection…"), 250);
  let result: Awaited<ReturnType<typeof call>>;
  try {
    result = await call(ctx, body);
  } finally {
    clearInterval(timer);
    line.done();
  }
  const { status, answer, where } = result;
  const message = (answer as { error?: string; message?: string } | null) ?? {};
  if (status !== 200) {
    const text =
      typeof answer === "string" ? answer : (message.error ?? message.message ?? JSON.stringify(answer));
    if (options.json) printJson(ctx, { ok: false, status, error: text });
    if (status === 400 || status === 413 || status === 415)
      throw new CliError(EXIT.usage, `The connection test refused the request: ${text}${reEnterHint(text)}`);
    if (status === 403 && !message.error) {
      throw new CliError(
        EXIT.aws,
        `${where} answered 403 ${text}: your IAM identity needs execute-api:Invoke on it (or pass --profile)`,
      );
    }
    if (status === 403 || status === 500)
      throw new CliError(EXIT.failed, `The connection test failed: ${text}`);
    throw new CliError(EXIT.aws, `${where} answered ${status}: ${text}`);
  }
  const r = answer as ConnectionTestResponse;
  if (options.json) {
    printJson(ctx, r);
    return r.ok ? EXIT.ok : EXIT.failed;
  }
  ctx.stdout.write(`Connection test of ${describeTarget(r)}\n`);
  // A failed stage is the FAIL line's alone.
  for (const s of r.stages.filter((s) => s.ok))
    ctx.stdout.write(`  ok    ${s.stage.padEnd(10)} ${s.ms} ms\n`);
  if (r.token) {
    const t = r.token;
    ctx.stdout.write(
      `  token from ${t.endpoint}${t.audience ? ` for ${t.audience}` : ""}${t.roles ? ` (${t.roles.join(", ")})` : ""}, valid ${Math.round(t.expiresInSeconds / 60)} min more\n`,
    );
  }
  if (r.ses) {
    const x = r.ses;
    const quota =
      x.max24HourSend === undefined
        ? ""
        : `, ${x.remaining24Hours} of ${x.max24HourSend} left today at ${x.maxSendRate}/s`;
    ctx.stdout.write(
      `  SES identity ${x.identity ?? "(none)"} ${x.identityVerified ? "verified" : "NOT verified"}${x.sandbox ? ", in the sandbox" : ""}${quota}\n`,
    );
  }
  if (r.error) {
    const e = r.error;
    ctx.stdout.write(
      `  FAIL  ${e.stage.padEnd(10)} ${e.code}${e.responseCode ? ` ${e.responseCode}` : ""}: ${e.message}\n`,
    );
  }
  if (r.messageId) ctx.stdout.write(`Test message sent to ${options.to}: ${r.messageId}\n`);
  for (const w of r.warnings) ctx.stdout.write(`warning: ${w}\n`);
  ctx.stdout.write(r.ok ? "The connection works.\n" : "The connection does NOT work.\n");
  return r.ok ? EXIT.ok : EXIT.failed;
}
