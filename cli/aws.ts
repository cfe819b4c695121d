/**
 * The AWS SDK v3 clients the CLI uses, made once from --profile and --region (else the standard
 * chain: AWS_PROFILE, AWS_REGION or AWS_DEFAULT_REGION, ~/.aws/config, SSO, instance roles) and the endpoint variables
 * (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), so tests point every client at moto.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SQSClient } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { SsmApi } from "../lib/aws-ssm/index.ts";
import { createSsmClient, sdkSsmApi } from "../lib/aws-ssm/sdk-client.ts";
import { profileNames, sharedFilePaths } from "./aws-profiles.ts";
import { CliError, EXIT } from "./output.ts";

export interface AwsOptions {
  profile?: string;
  region?: string;
  env: Readonly<Record<string, string | undefined>>;
}

export interface AwsClients {
  region: () => Promise<string>;
  credentials: AwsCredentialIdentityProvider;
  ssm: SsmApi;
  sqs: SQSClient;
  cloudFormation: CloudFormationClient;
  lambda: LambdaClient;
  cloudWatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
}

/** The endpoint for a service from the injected environment, as the SDK itself reads it. */
function endpointFor(env: AwsOptions["env"], service: string): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? env.AWS_ENDPOINT_URL;
}

export function awsClients({ profile, region, env }: AwsOptions): AwsClients {
  const credentials = defaultProvider(profile ? { profile } : {});
  const chosenRegion = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const base = (service: string) => {
    const endpoint = endpointFor(env, service);
    return {
      // As the AWS CLI: --region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's.
      ...(chosenRegion ? { region: chosenRegion } : {}),
      ...(profile ? { profile } : {}),
      ...(endpoint ? { endpoint } : {}),
      credentials,
      maxAttempts: 3,
    };
  };
  const sqs = new SQSClient(base("sqs"));
  return {
    region: async () => {
      const named = profile ?? env.AWS_PROFILE;
      if (named && !(await profileNames(env)).has(named)) {
        const paths = sharedFilePaths(env);
        throw new CliError(
          EXIT.aws,
          `AWS profile ${JSON.stringify(named)}${profile ? "" : " (AWS_PROFILE)"} does not exist in ${paths.config} or ${paths.credentials} (aws configure list-profiles lists yours)`,
        );
      }
      try {
        return await sqs.config.region();
      } catch {
        throw new CliError(
          EXIT.aws,
          `No AWS region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set one in ${named ? `profile ${named}` : "your profile"}`,
        );
      }
    },
    credentials,
    ssm: sdkSsmApi(createSsmClient(base("ssm"))),
    sqs,
    cloudFormation: new CloudFormationClient(base("cloudformation")),
    lambda: new LambdaClient(base("lambda")),
    cloudWatch: new CloudWatchClient(base("cloudwatch")),
    logs: new CloudWatchLogsClient(base("logs")),
  };
}

/** What to tell an operator when AWS says no, by the error's code. */
function hint(name: string): string {
  if (/CredentialsProviderError|UnrecognizedClient|InvalidClientTokenId|ExpiredToken/i.test(name))
    return " (check your AWS credentials: aws sts get-caller-identity, or pass --profile)";
  if (/AccessDenied|NotAuthorized|Forbidden/i.test(name))
    return " (your IAM identity lacks this permission: ask for it, or use a --profile that has it)";
  return "";
}

/**
 * An error with the causes under it (Node's fetch says only "fetch failed", its cause says
 * ECONNREFUSED 127.0.0.1:443 or ENOTFOUND): each level's code or name, and its message.
 */
export function describeCauses(error: unknown): string {
  const parts: string[] = [];
  let e = error as (Error & { code?: string; cause?: unknown }) | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    parts.push(`${e.code ?? e.name ?? "Error"}: ${e.message ?? String(e)}`);
    e = e.cause as typeof e;
  }
  return parts.join(", because ");
}

/** Runs one AWS call; a failure becomes exit 3 naming what was being done and the resource. */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const e = error as Error;
    throw new CliError(EXIT.aws, `Could not ${what}: ${describeCauses(e)}${hint(e.name)}`);
  }
}
