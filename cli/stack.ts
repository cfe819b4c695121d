/**
 * The deployed stack as the CLI needs it: its name (--stack, MM_EMAIL_STACK, cdk.json's
 * `stackName` context, else infra/app.ts's default), its outputs, its resources, and the
 * send-notification function's configuration (its environment holds SETTINGS_PATH and any
 * MM_* overrides). Looked up once per command.
 */
import { readFileSync } from "node:fs";
import {
  DescribeStacksCommand,
  GetTemplateCommand,
  paginateListStackResources,
  type StackResourceSummary,
} from "@aws-sdk/client-cloudformation";
import { GetFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import type { FunctionName } from "../functions/create-function.ts";
import {
  DEFAULT_STACK_NAME,
  functionLogicalIdPrefix,
  logGroupLogicalIdPrefix,
  STACK_OUTPUTS,
} from "../infra/outputs.ts";
import { DEFAULT_SETTINGS_PATH, settingsRootPath } from "../lib/settings/index.ts";
import { type AwsClients, awsCall } from "./aws.ts";
import { CliError, EXIT } from "./output.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** The `stackName` context of this package's cdk.json, if set. */
function cdkContextStackName(): string | undefined {
  try {
    const cdk = JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8"));
    const name = cdk?.context?.stackName;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

export function stackNameFrom(option: string | undefined, env: Env): string {
  return option ?? env.MM_EMAIL_STACK ?? cdkContextStackName() ?? DEFAULT_STACK_NAME;
}

/** Each AWS::SSM::Parameter's literal Name and Value in a JSON template (CDK's); none from anything else. */
export function parameterValuesOf(templateBody: string): Map<string, string> {
  let template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };
  try {
    template = JSON.parse(templateBody);
  } catch {
    return new Map(); // not JSON: not a template this product made
  }
  const values = new Map<string, string>();
  for (const resource of Object.values(template?.Resources ?? {})) {
    const { Name, Value } = resource?.Properties ?? {};
    if (resource?.Type === "AWS::SSM::Parameter" && typeof Name === "string" && typeof Value === "string")
      values.set(Name, Value);
  }
  return values;
}

export interface DeployedFunction {
  name: string;
  environment: Record<string, string>;
  lastModified?: string;
  /** The function's timeout, as deployed. */
  timeoutSeconds?: number;
}

export interface Stack {
  name: string;
  outputs: Record<string, string>;
  resources: StackResourceSummary[];
  /** The SSM parameters the stack created (from its context), by full name. */
  ownedParameters: ReadonlySet<string>;
  /** The value the stack's template gives each parameter it owns (what its next deploy of that key writes). */
  ownedParameterValues(): Promise<ReadonlyMap<string, string>>;
  /** An output by its id; a missing one is an error naming it and the stack. */
  output(key: string): string;
  /** The physical name of a product function, or undefined when the stack has none. */
  functionName(fn: FunctionName): string | undefined;
  /** The physical name of a product function's own log group, or undefined when the stack has none. */
  logGroupName(fn: FunctionName): string | undefined;
  /** A function's configuration (cached). */
  functionConfig(fn: FunctionName): Promise<DeployedFunction | undefined>;
  /** The settings root: send-notification's SETTINGS_PATH, else from PasswordParameterName, else the default. */
  settingsRoot(): Promise<string>;
}

export async function lookUpStack(aws: AwsClients, name: string): Promise<Stack> {
  const region = await aws.region();
  const described = await awsCall(`describe stack ${name} in ${region}`, async () => {
    try {
      return await aws.cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
    } catch (error) {
      if (/does not exist/.test((error as Error).message)) {
        throw new CliError(
          EXIT.aws,
          `Stack ${name} was not found in ${region}: deploy it (npx cdk deploy), or name it with --stack NAME (or MM_EMAIL_STACK), or pass --region`,
        );
      }
      throw error;
    }
  });
  const stack = described.Stacks?.[0];
  const outputs = Object.fromEntries(
    (stack?.Outputs ?? []).flatMap((o) =>
      o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
    ),
  );
  const resources = await awsCall(`list the resources of stack ${name}`, async () => {
    const all: StackResourceSummary[] = [];
    for await (const page of paginateListStackResources(
      { client: aws.cloudFormation },
      { StackName: name },
    )) {
      all.push(...(page.StackResourceSummaries ?? []));
    }
    return all;
  });
  const configs = new Map<FunctionName, Promise<DeployedFunction | undefined>>();

  const functionName = (fn: FunctionName) =>
    resources.find(
      (r) =>
        r.ResourceType === "AWS::Lambda::Function" &&
        r.LogicalResourceId?.startsWith(functionLogicalIdPrefix(fn)) &&
        r.PhysicalResourceId,
    )?.PhysicalResourceId;

  const logGroupName = (fn: FunctionName) =>
    resources.find(
      (r) =>
        r.ResourceType === "AWS::Logs::LogGroup" &&
        r.LogicalResourceId?.startsWith(logGroupLogicalIdPrefix(fn)) &&
        r.PhysicalResourceId,
    )?.PhysicalResourceId;

  const self: Stack = {
    name,
    outputs,
    resources,
    ownedParameters: new Set(
      resources.flatMap((r) =>
        r.ResourceType === "AWS::SSM::Parameter" && r.PhysicalResourceId ? [r.PhysicalResourceId] : [],
      ),
    ),
    output(key) {
      const value = outputs[key];
      if (value === undefined) {
        throw new CliError(
          EXIT.aws,
          `Stack ${name} has no output ${key}: is it this product's stack, deployed with this version? (npx cdk deploy)`,
        );
      }
      return value;
    },
    functionName,
    logGroupName,
    functionConfig(fn) {
      let config = configs.get(fn);
      if (!config) {
        const physical = functionName(fn);
        config = physical
          ? awsCall(`read the configuration of function ${physical}`, async () => {
              const out = await aws.lambda.send(
                new GetFunctionConfigurationCommand({ FunctionName: physical }),
              );
              return {
                name: physical,
                environment: { ...(out.Environment?.Variables ?? {}) },
                ...(out.LastModified ? { lastModified: out.LastModified } : {}),
                ...(out.Timeout ? { timeoutSeconds: out.Timeout } : {}),
              };
            })
          : Promise.resolve(undefined);
        configs.set(fn, config);
      }
      return config;
    },
    async ownedParameterValues() {
      if (self.ownedParameters.size === 0) return new Map();
      const body = await awsCall(`read the template of stack ${name}`, async () => {
        const out = await aws.cloudFormation.send(new GetTemplateCommand({ StackName: name }));
        return out.TemplateBody ?? "";
      });
      return parameterValuesOf(body);
    },
    async settingsRoot() {
      const fn = await self.functionConfig("send-notification");
      if (fn?.environment.SETTINGS_PATH !== undefined) return settingsRootPath(fn.environment);
      const password = outputs[STACK_OUTPUTS.passwordParameterName];
      const suffix = "/EmailSettings/SMTPPassword";
      if (password?.endsWith(suffix)) return password.slice(0, -suffix.length);
      return DEFAULT_SETTINGS_PATH;
    },
  };
  return self;
}
