/**
 * One of the product's Lambda functions, with everything that is its own: a log group with the
 * deployment's retention, a role that may read the settings, write that log group and do what
 * the function alone needs, the runtime (Node 24 on arm64), and the optional VPC placement.
 *
 * The code comes from infra/bundling.ts (`functionCode`, `LAMBDA_HANDLER`) and is wired here
 * alone: changing how the functions are bundled or packaged changes this file, not the stack,
 * which sees `fn` typed as `EmailFunction["fn"]`.
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): `<name>`, `<name>-role` and `<name>-logs`.
 */
import { type Duration, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { FunctionName } from "../../functions/create-function.ts";
import type { FunctionEnvironment } from "../../functions/environment.ts";
import { functionCode, LAMBDA_HANDLER } from "../bundling.ts";
import type { DeploymentConfig } from "../config.ts";
import { logGroupConstructId } from "../outputs.ts";

/** Existing network the functions run in (SMTP servers reachable only there). */
export interface VpcPlacement {
  /** The VPC of the subnets. */
  readonly vpc: ec2.IVpc;
  /** The subnets the functions' network interfaces go in. */
  readonly subnets: ec2.ISubnet[];
  /** The security groups of those interfaces. */
  readonly securityGroups: ec2.ISecurityGroup[];
}

/** The VPC, subnets and security groups named in context, imported into `scope` (nothing is created). */
export function importVpcPlacement(scope: Construct, v: NonNullable<DeploymentConfig["vpc"]>): VpcPlacement {
  const region = Stack.of(scope).region;
  return {
    vpc: ec2.Vpc.fromVpcAttributes(scope, "Vpc", {
      vpcId: v.vpcId,
      availabilityZones: v.availabilityZones ?? v.subnetIds.map((_, i) => `${region}-az${i}`),
    }),
    subnets: v.subnetIds.map((sid, i) => ec2.Subnet.fromSubnetId(scope, `Subnet${i}`, sid)),
    securityGroups: v.securityGroupIds.map((sg, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(scope, `Sg${i}`, sg),
    ),
  };
}

/** The variables that are set, as Lambda takes them (an undefined one is left out). */
function definedVariables(variables: FunctionEnvironment): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) if (value !== undefined) environment[key] = value;
  return environment;
}

/**
 * Sets variables on a function after it was made, by the names functions/environment.ts reads:
 * for values that exist only once the function does (the URL of the queue it consumes).
 */
export function addFunctionEnvironment(fn: lambda.Function, variables: FunctionEnvironment): void {
  for (const [key, value] of Object.entries(definedVariables(variables))) fn.addEnvironment(key, value);
}

/** The functions' memory unless a prop says otherwise: see EmailFunctionProps.memorySize. */
export const DEFAULT_MEMORY_MB = 512;

export interface EmailFunctionProps {
  /** Which function: its code is functions/<name>.ts, and its ids derive from the name. */
  readonly name: FunctionName;

  /** SSM root of the settings, given to the function as SETTINGS_PATH. */
  readonly settingsPath: string;

  /** Loading the settings (`SettingsParameters.readPolicy`): an inline policy of the role. */
  readonly settingsReadPolicy: iam.PolicyDocument;

  /**
   * What this function alone may do, a second inline policy of the role.
   *
   * @default - nothing more than reading the settings and writing its logs
   */
  readonly ownPolicy?: iam.PolicyDocument;

  /** The longest an invocation may run (infra/sizing.ts). */
  readonly timeout: Duration;

  /**
   * Memory, in MiB, which is also the CPU share (one vCPU at 1,769 MB).
   *
   * @default 512: the cheapest size at which every function's first invocation stays under one
   * second (at 256 MB, about 0.15 of a CPU, it took 0.8 to 1.8 s, over a second for two of the
   * three), and 1,000 notifications cost about the same at every size, the work being CPU-bound
   * (BENCHMARKS.md, "At Lambda's CPU share").
   */
  readonly memorySize?: number;

  /**
   * Variables besides SETTINGS_PATH, by the names functions/environment.ts reads.
   *
   * @default - SETTINGS_PATH alone
   */
  readonly environment?: FunctionEnvironment;

  /** How long the function's log group keeps its events. */
  readonly logRetention: logs.RetentionDays;

  /**
   * Run in these subnets; the role may then manage the function's network interfaces.
   *
   * @default - outside any VPC
   */
  readonly vpcPlacement?: VpcPlacement;
}

export class EmailFunction {
  /** The Lambda function (`fn.node.defaultChild` is its CfnFunction). */
  readonly fn: lambda.Function;
  /** The role it runs as. */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, props: EmailFunctionProps) {
    const { name } = props;
    this.logGroup = new logs.LogGroup(scope, logGroupConstructId(name), { retention: props.logRetention });
    this.role = new iam.Role(scope, `${name}-role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Runs the ${name} function`,
      inlinePolicies: {
        settings: props.settingsReadPolicy,
        ...(props.ownPolicy ? { own: props.ownPolicy } : {}),
      },
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpcPlacement) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "VpcNetworkInterfaces",
          actions: [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          resources: ["*"],
        }),
      );
    }
    const environment = definedVariables({ SETTINGS_PATH: props.settingsPath, ...props.environment });
    const placement = props.vpcPlacement;
    this.fn = new lambda.Function(scope, name, {
      code: functionCode(name),
      handler: LAMBDA_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Source maps ship in the bundle; NODE_OPTIONS=--enable-source-maps maps stack traces
      // at about 7 ms of every cold start (BENCHMARKS.md), so it is left to the operator.
      environment,
      ...(placement
        ? {
            vpc: placement.vpc,
            vpcSubnets: { subnets: placement.subnets },
            securityGroups: placement.securityGroups,
          }
        : {}),
    });
  }
}
