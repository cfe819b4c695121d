/**
 * `settings set | unset`: changes to the stored settings, checked by the product's own schema
 * before anything is written; the password only from a prompt or stdin, stored as a SecureString;
 * a warning when a function's environment variable hides the setting. With --local, the local
 * run's settings file instead (settings-local.ts).
 */

import { deleteParameter, secureStringKeyId } from "../../lib/aws-ssm/index.ts";
import { AFTER_SEND_RESERVE_MS, batchSmtpTimeoutSeconds } from "../../lib/notifications/batch-time.ts";
import {
  checkStoredSetting,
  MULTILINE_SETTINGS,
  parameterNameFor,
  type SettingName,
  TRANSPORT_SECTION,
  TRANSPORT_SETTING_NAMES,
} from "../../lib/settings/index.ts";
import { sectionsOf } from "../../lib/settings/schema.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { confirmCredentialMove, withChanges } from "../credential-move.ts";
import { type DeployedSettings, effectiveValues, loadDeployedSettings } from "../deployed-settings.ts";
import { CliError, EXIT, usageError } from "../output.ts";
import { confirm, readSecret } from "../prompt.ts";
import { refuseStackOwned } from "../stack-owned.ts";

import { isSecret, PASSWORD, settingName } from "./settings.ts";
import { setLocal, unsetLocal } from "./settings-local.ts";

export function parameterFor(deployed: DeployedSettings, setting: SettingName): string {
  const names = sectionsOf(setting).map((section) => parameterNameFor(deployed.root, setting, section));
  return names.find((n) => deployed.parameters.some((p) => p.name === n)) ?? (names[0] as string);
}

/**
 * The product's check of `value` as the stored value of `setting`, among the other stored ones:
 * the product's InvalidSettingsError message for this setting, or undefined when it is valid.
 */
export function checkStoredValue(
  deployed: DeployedSettings,
  setting: SettingName,
  value: unknown,
  parameter: string,
): string | undefined {
  // SSM cannot hold "": it deletes the parameter.
  return checkStoredSetting(deployed.storedLayer, setting, value === "" ? undefined : value, {
    layer: "ssm",
    name: parameter,
  });
}

/** The function environment variables that hide a stored setting. */
export function overridesOf(deployed: DeployedSettings, setting: SettingName): string[] {
  return deployed.environmentLayer
    .filter((r) => r.setting === setting)
    .map((r) => (r.source as { name: string }).name);
}

export function warnOverridden(ctx: CliContext, deployed: DeployedSettings, setting: SettingName): void {
  for (const variable of overridesOf(deployed, setting)) {
    ctx.stderr.write(
      `warning: function ${deployed.functionName} sets ${variable}, which overrides ${setting}: the stored value has no effect until that variable is removed from the function's environment\n`,
    );
  }
}

export interface WriteOptions {
  /**
   * A KMS key for a secret's SecureString; default the key it already has, else the password's
   * (the stack's passwordKmsKeyArn, which its functions may decrypt for every secret), else aws/ssm.
   */
  keyId?: string;
}

/** Writes one setting's parameter (deleting it for ""). */
export async function writeSetting(
  ctx: CliContext,
  parameter: string,
  setting: SettingName,
  value: string,
  { keyId }: WriteOptions = {},
): Promise<void> {
  const api = ctx.aws().ssm;
  if (value === "") {
    await awsCall(`delete SSM parameter ${parameter}`, () => deleteParameter(api, parameter));
    return;
  }
  const secure = isSecret(setting);
  // A secret keeps the key it has (the stack's passwordKmsKeyArn), unless --key-id says another; a
  // new one takes the password's, which the functions may decrypt with.
  const keyOf = (name: string) =>
    awsCall(`describe SSM parameter ${name}`, () => secureStringKeyId(api, name));
  const passwordParameter = parameter.replace(/\/[^/]+\/[^/]+$/, `/EmailSettings/${PASSWORD}`);
  const key = secure
    ? (keyId ??
      (await keyOf(parameter)) ??
      (parameter === passwordParameter ? undefined : await keyOf(passwordParameter)))
    : undefined;
  await awsCall(`write SSM parameter ${parameter}`, () =>
    api.call("PutParameter", {
      Name: parameter,
      Value: value,
      Type: secure ? "SecureString" : "String",
      Overwrite: true,
      ...(key ? { KeyId: key } : {}),
    }),
  );
}

export async function settingsSet(
  ctx: CliContext,
  name: string,
  value: string | undefined,
  options: WriteOptions = {},
): Promise<number> {
  const setting = settingName(name);
  const secret = isSecret(setting);
  if (secret && value !== undefined) {
    throw usageError(
      `${setting} is a secret, never taken from the command line (it would stay in your shell history): run \`mm-email settings set ${setting}\` and ${MULTILINE_SETTINGS.has(setting) ? "pipe the file on stdin" : "type it, or pipe it on stdin"}`,
    );
  }
  if (!secret && value === undefined)
    throw usageError(`settings set ${setting} needs a VALUE ("" unsets it)`);
  const newValue =
    value ??
    (await readSecret(ctx, `${setting} (not shown): `, { multiline: MULTILINE_SETTINGS.has(setting) }));
  // An empty secret would delete the stored one without a word: deleting is `settings unset`.
  if (secret && newValue.trim() === "") {
    throw usageError(
      `No ${setting} was given (stdin was empty): nothing was written. To remove it, run \`mm-email settings unset ${setting}\``,
    );
  }
  if (ctx.local) return setLocal(ctx, setting, newValue);
  const deployed = await loadDeployedSettings(ctx);
  const parameter = parameterFor(deployed, setting);
  refuseStackOwned(deployed, [parameter]);
  const invalid = checkStoredValue(deployed, setting, newValue, parameter);
  if (invalid) throw new CliError(EXIT.usage, `${invalid}. Nothing was written.`);
  const before = effectiveValues(deployed);
  await confirmCredentialMove(ctx, before, withChanges(before, [{ setting, value: newValue }]));
  await writeSetting(ctx, parameter, setting, newValue, options);
  const shown = secret ? `(the secret, as a SecureString)` : JSON.stringify(newValue);
  ctx.stdout.write(
    newValue === ""
      ? `${setting}: deleted ${parameter} (the default applies)\n`
      : `${setting}: wrote ${parameter} = ${shown}\n`,
  );
  warnOverridden(ctx, deployed, setting);
  warnUnread(ctx, deployed, setting);
  warnTimeoutBeyondDeployment(ctx, deployed, setting, newValue);
  return EXIT.ok;
}

/**
 * An SMTPServerTimeout longer than the deployed send-notification has time for: one session and
 * one send at that timeout no longer fit its timeout, which the stack sized from the value at
 * deploy time. The function still sends (it bounds each stage by the time left), but the operator
 * should know, and redeploy.
 */
export function warnTimeoutBeyondDeployment(
  ctx: CliContext,
  deployed: DeployedSettings,
  setting: SettingName,
  value: string,
): void {
  const timeout = deployed.functionTimeoutSeconds;
  if (setting !== "SMTPServerTimeout" || !timeout || !/^\d+$/.test(value)) return;
  const seconds = Number(value);
  const bounded = batchSmtpTimeoutSeconds(seconds, timeout * 1000);
  if (bounded >= seconds) return;
  ctx.stderr.write(
    `warning: SMTPServerTimeout ${seconds} s is longer than the deployed send-notification (timeout ${timeout} s) supports, ${bounded} s: a session and a send (2 × ${seconds} s) and ${AFTER_SEND_RESERVE_MS / 1000} s for the queue do not fit. It bounds each SMTP stage to ${bounded} s until you redeploy (npx cdk deploy sizes the timeout from SMTPServerTimeout; docs/deploy.md)\n`,
  );
}

/** A setting of the product's own section, on a stack whose functions do not read that section. */
export function warnUnread(ctx: CliContext, deployed: DeployedSettings, setting: SettingName): void {
  if (deployed.usesTransportSettings || !TRANSPORT_SETTING_NAMES.includes(setting)) return;
  ctx.stderr.write(
    `warning: the stack's functions do not read ${TRANSPORT_SECTION} from SSM: ${setting} has no effect until the stack is deployed with -c emailTransportSettings='{}' (docs/deploy.md)\n`,
  );
}

export async function settingsUnset(ctx: CliContext, name: string): Promise<number> {
  const setting = settingName(name);
  if (ctx.local) return unsetLocal(ctx, setting);
  const deployed = await loadDeployedSettings(ctx);
  const names = sectionsOf(setting).map((section) => parameterNameFor(deployed.root, setting, section));
  const existing = names.filter((n) => deployed.parameters.some((p) => p.name === n));
  refuseStackOwned(deployed, existing);
  // A deleted parameter (a secret above all) cannot be had back: ask first.
  if (
    existing.length > 0 &&
    !(await confirm(
      ctx,
      `Delete ${existing.join(", ")}? ${setting} then takes its default.`,
      ctx.options.yes,
    ))
  ) {
    ctx.stderr.write("Nothing deleted.\n");
    return EXIT.usage;
  }
  for (const parameter of existing) await writeSetting(ctx, parameter, setting, "");
  ctx.stdout.write(
    existing.length
      ? `${setting}: deleted ${existing.join(", ")} (the default applies)\n`
      : `${setting}: not stored (the default applies)\n`,
  );
  warnOverridden(ctx, deployed, setting);
  return EXIT.ok;
}
