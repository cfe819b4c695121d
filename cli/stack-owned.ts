/**
 * One owner for each parameter. A parameter the stack created from its context (`-c
 * emailSettings`, `emailTransportSettings`, `securityAlertRecipients`) is the stack's:
 * CloudFormation writes it on the deploy that changes that key and deletes it when the key
 * leaves the context, so a value mm-email wrote there would be undone without a word, some deploys
 * later. mm-email
 * therefore shows such a parameter as the stack's and refuses to change it, naming the context
 * key to change instead; every other parameter is the operator's, which no deploy touches.
 * docs/deploy.md ("Who owns a setting") says how to hand one over.
 */
import { OWNED_PARAMETER_CONTEXT } from "../infra/outputs.ts";
import { CliError, EXIT } from "./output.ts";

export interface OwnedParameters {
  /** The stack's name. */
  stackName: string;
  /** The settings root. */
  root: string;
  /** The SSM parameters the stack created, by full name. */
  ownedParameters: ReadonlySet<string>;
}

/** The context key a parameter of the stack comes from: `emailSettings.SMTPServer`, `securityAlertRecipients`. */
export function contextKeyOf(root: string, parameter: string): string {
  const [folder = "", name = ""] = parameter.slice(root.length + 1).split("/");
  const key = OWNED_PARAMETER_CONTEXT[folder as keyof typeof OWNED_PARAMETER_CONTEXT] ?? folder;
  return folder === "SecurityAlerts" ? key : `${key}.${name}`;
}

/** Of `parameters`, those the stack owns, each with its context key. */
export function ownedAmong(
  owned: OwnedParameters,
  parameters: readonly string[],
): { parameter: string; contextKey: string }[] {
  return parameters
    .filter((p) => owned.ownedParameters.has(p))
    .map((parameter) => ({ parameter, contextKey: contextKeyOf(owned.root, parameter) }));
}

/** Throws (exit 2, nothing written) when a change would touch a parameter the stack owns. */
export function refuseStackOwned(owned: OwnedParameters, parameters: readonly string[]): void {
  const found = ownedAmong(owned, parameters);
  if (found.length === 0) return;
  const lines = found.map(
    ({ parameter, contextKey }) =>
      `${parameter} is stack ${owned.stackName}'s: its context ${contextKey} sets it, and a deploy that changes or removes that key would overwrite or delete what mm-email wrote.`,
  );
  throw new CliError(
    EXIT.usage,
    `${lines.join("\n")}\nChange ${found.map((f) => f.contextKey).join(", ")} in the context and run \`npx cdk deploy\`, or hand ${found.length === 1 ? "it" : "them"} to mm-email (docs/deploy.md#who-owns-a-setting). Nothing was written.`,
  );
}
