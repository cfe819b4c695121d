/**
 * The settings as the deployed functions see them, by the product's own code: the stored
 * parameters (readStoredParameters, ssmLayer) under send-notification's SETTINGS_PATH, its
 * environment's MM_* overrides (readEnvironmentLayer), resolved defaults < SSM < environment
 * (resolveEmailSettings). An invalid value does not hide the others: each row says whether its
 * value is valid, with the product's own message when it is not.
 */
import type { StoredParameter } from "../lib/aws-ssm/index.ts";
import {
  describeIssue,
  describeSource,
  type EmailSettings,
  environmentVariableFor,
  hiddenStoredValues,
  PASSWORD_MASK,
  parameterNameFor,
  readEnvironmentLayer,
  readStoredParameters,
  readsTransportSettings,
  redactSettings,
  resolveLeniently,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingIssue,
  type SettingName,
  type SettingSource,
  type SettingsLayer,
  sectionsOf,
  ssmLayer,
  TRANSPORT_SECTION,
  TRANSPORT_SETTING_NAMES,
} from "../lib/settings/index.ts";
import { awsCall } from "./aws.ts";
import type { CliContext } from "./context.ts";
import { contextKeyOf, type OwnedParameters } from "./stack-owned.ts";

export interface SettingRow {
  setting: SettingName;
  /** The effective value (the password masked), or the invalid value as the product echoes it. */
  value: unknown;
  source: SettingSource;
  /** The source in words, naming the parameter, or the variable and its function. */
  sourceText: string;
  /** The setting's canonical environment variable. */
  variable: string;
  valid: boolean;
  /** The product's message for an invalid value. */
  error?: string;
  /** The context key of the stack that owns the setting's parameter (docs/deploy.md#who-owns-a-setting). */
  stackOwned?: string;
}

export interface DeployedSettings extends OwnedParameters {
  root: string;
  /** The functions read `<root>/EmailTransportSettings/` (the stack turned it on). */
  usesTransportSettings: boolean;
  /** send-notification's physical name, when the stack has it. */
  functionName?: string;
  /** send-notification's timeout, as deployed (sized from SMTPServerTimeout then: infra/sizing.ts). */
  functionTimeoutSeconds?: number;
  functionEnvironment: Record<string, string>;
  parameters: StoredParameter[];
  storedLayer: SettingsLayer;
  environmentLayer: SettingsLayer;
  warnings: string[];
}

export async function loadDeployedSettings(ctx: CliContext): Promise<DeployedSettings> {
  const stack = await ctx.stack();
  const fn = await stack.functionConfig("send-notification");
  const root = await stack.settingsRoot();
  // The product's own section too, whether or not the stack turned it on: an operator sees what is stored.
  const parameters = await awsCall(`read the SSM parameters under ${root || "/"}`, () =>
    readStoredParameters(ctx.aws().ssm, root, { transportSettings: true }),
  );
  const stored = ssmLayer(parameters, root);
  const functionEnvironment = fn?.environment ?? {};
  const warnings = [...stored.warnings];
  if (!fn) {
    warnings.push(
      `stack ${stack.name} has no send-notification function: environment overrides are not shown`,
    );
  }
  // A stack's parameter changed outside it (by an earlier mm-email, or aws ssm) keeps its value
  // only until a deploy changes or removes that key: say so now.
  for (const [name, value] of await stack.ownedParameterValues()) {
    const stored = parameters.find((p) => p.name === name)?.value;
    if (stored === undefined || stored === value) continue;
    warnings.push(
      `${name} holds ${JSON.stringify(stored)}, but stack ${stack.name}'s context ${contextKeyOf(root, name)} says ${JSON.stringify(value)}: a deploy that changes or removes that key overwrites or deletes the stored value; put the value you want in the context and deploy, or hand the setting to mm-email (docs/deploy.md#who-owns-a-setting)`,
    );
  }
  const environmentLayer = readEnvironmentLayer(functionEnvironment);
  warnings.push(
    ...hiddenStoredValues(stored.layer, environmentLayer).map((w) => `function ${fn?.name}: ${w}`),
  );
  const usesTransport = readsTransportSettings(functionEnvironment);
  if (fn && !usesTransport && stored.layer.some((r) => TRANSPORT_SETTING_NAMES.includes(r.setting))) {
    warnings.push(
      `stack ${stack.name} does not read ${TRANSPORT_SECTION} from SSM: the values stored there have no effect until it is deployed with -c emailTransportSettings='{}' (docs/deploy.md)`,
    );
  }
  return {
    root,
    stackName: stack.name,
    ownedParameters: stack.ownedParameters,
    usesTransportSettings: usesTransport,
    ...(fn ? { functionName: fn.name } : {}),
    ...(fn?.timeoutSeconds ? { functionTimeoutSeconds: fn.timeoutSeconds } : {}),
    functionEnvironment,
    parameters,
    storedLayer: stored.layer,
    environmentLayer,
    warnings,
  };
}

/** The values the functions use now (an invalid one replaced by its fallback), secrets unmasked. */
export function effectiveValues(deployed: DeployedSettings): EmailSettings {
  return resolveLeniently([deployed.storedLayer, deployed.environmentLayer]).resolved.values;
}

export function describeSourceOn(source: SettingSource, functionName: string | undefined): string {
  const text = describeSource(source);
  return source.layer === "environment" && functionName ? `${text} of function ${functionName}` : text;
}

/** One row per setting, in the schema's order. */
export function settingRows(deployed: DeployedSettings): {
  rows: SettingRow[];
  issues: readonly SettingIssue[];
} {
  const { resolved, issues } = resolveLeniently([deployed.storedLayer, deployed.environmentLayer]);
  const redacted = redactSettings(resolved);
  const rows = SETTING_NAMES.map((setting): SettingRow => {
    const issue = issues.find((i) => i.setting === setting);
    const source = issue?.source ?? redacted[setting].source;
    const owned = sectionsOf(setting)
      .map((section) => parameterNameFor(deployed.root, setting, section))
      .find((name) => deployed.ownedParameters.has(name));
    const ownedText =
      owned && source.layer === "ssm" && source.name === owned
        ? `, the stack's (context ${contextKeyOf(deployed.root, owned)})`
        : "";
    return {
      setting,
      value: issue
        ? SECRET_SETTINGS.has(setting)
          ? PASSWORD_MASK
          : (issue.value ?? null)
        : redacted[setting].value,
      source,
      sourceText: describeSourceOn(source, deployed.functionName) + ownedText,
      variable: environmentVariableFor(setting),
      valid: !issue,
      ...(owned ? { stackOwned: contextKeyOf(deployed.root, owned) } : {}),
      ...(issue
        ? {
            error: issues
              .filter((i) => i.setting === setting)
              .map(describeIssue)
              .join("; "),
          }
        : {}),
    };
  });
  return { rows, issues };
}
