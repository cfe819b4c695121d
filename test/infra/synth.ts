/** Builds the real stack from context, as `cdk synth` does, for template and nag tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { deploymentConfig } from "../../infra/config.ts";
import { addNagChecks } from "../../infra/nag.ts";
import { EmailStack } from "../../infra/stack.ts";

export interface SynthOptions {
  context?: Record<string, unknown>;
  /** Run esbuild as CDK does. Off by default: template tests do not need the code. */
  bundle?: boolean;
  nag?: boolean;
}

export function buildStack({ context = {}, bundle = false, nag = false }: SynthOptions = {}) {
  const outdir = mkdtempSync(join(tmpdir(), "cdk-out-"));
  const app = new App({
    outdir,
    context: { appVersion: "10.5.1", ...context, ...(bundle ? {} : { "aws:cdk:bundling-stacks": [] }) },
  });
  const stack = new EmailStack(app, "MattermostEmail", {
    config: deploymentConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext())),
    env: { account: "123456789012", region: "eu-west-1" },
  });
  if (nag) addNagChecks(app, stack);
  return { app, stack, outdir };
}

export type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Every statement of the role a function runs as, inline policies and attached ones. */
export function statementsOf(t: Template, functionPrefix: string): Statement[] {
  const roles = t.findResources("AWS::IAM::Role");
  const [roleId, role] = Object.entries(roles).find(([id]) => id.startsWith(functionPrefix)) ?? [];
  if (!roleId || !role) throw new Error(`no role for ${functionPrefix}`);
  const inline = (role.Properties.Policies ?? []).flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  );
  const attached = Object.values(t.findResources("AWS::IAM::Policy"))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  return [...inline, ...attached];
}
