/**
 * Asks before a settings change sends a stored credential somewhere it was not stored for:
 * `settings set SMTPServer other.example` keeps the stored SMTPPassword, which the functions then
 * send to other.example (an OAuth2 secret goes to its token endpoint, and the token it buys to the
 * SMTP server). The connection test refuses the same (lib/settings/credentials.ts is the rule for
 * both); here the operator may confirm it, or pass --yes.
 */
import {
  credentialInUse,
  type EmailSettings,
  resolveEmailSettings,
  type SettingName,
} from "../lib/settings/index.ts";
import type { CliContext } from "./context.ts";
import { CliError, EXIT, shownValue } from "./output.ts";
import { confirm } from "./prompt.ts";

/** `values` with `changes` applied, each parsed as the settings parse it (an invalid one is left as is). */
export function withChanges(
  values: EmailSettings,
  changes: ReadonlyArray<{ setting: SettingName; value: unknown }>,
): EmailSettings {
  const out: Record<string, unknown> = { ...values };
  for (const { setting, value } of changes) {
    try {
      out[setting] = resolveEmailSettings([
        [{ setting, value, source: { layer: "request", name: setting } }],
      ]).values[setting];
    } catch {
      out[setting] = value;
    }
  }
  return out as EmailSettings;
}

export async function confirmCredentialMove(
  ctx: CliContext,
  before: EmailSettings,
  after: EmailSettings,
): Promise<void> {
  const use = credentialInUse(after);
  // No credential, none stored, or a new one given with the change: nothing stored travels anew.
  if (!use || before[use.secret] === "" || after[use.secret] !== before[use.secret]) return;
  const moved = use.destination.filter((name) => after[name] !== before[name]);
  if (moved.length === 0) return;
  const what = moved
    .map((name) => `${name} ${shownValue(before[name])} → ${shownValue(after[name])}`)
    .join(", ");
  const question = `${what}: the stored ${use.secret} would be sent there from now on (to send another, set ${use.secret} too).`;
  if (!(await confirm(ctx, question, ctx.options.yes))) {
    throw new CliError(
      EXIT.usage,
      `Nothing was written. Set ${use.secret} for the new destination too (mm-email settings set ${use.secret}), or confirm with --yes.`,
    );
  }
}
