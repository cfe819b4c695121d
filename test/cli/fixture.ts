/**
 * A deployed stack in the run's moto_server, as the CLI finds one: a CloudFormation stack whose
 * outputs name its queues, with send-notification and the alert check as Lambda functions (their
 * environment holds SETTINGS_PATH and an MM_* override), an event source mapping with a maximum
 * concurrency, the settings root of its own and any EmailSettings the stack owns. Plus a CLI
 * context with captured streams.
 */

import { Readable } from "node:stream";
import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { inject } from "vitest";
import { type CliContext, createContext, type GlobalOptions } from "../../cli/context.ts";
import type { CliStreams } from "../../cli/output.ts";
import { sendNotificationTimeoutSeconds } from "../../infra/sizing.ts";
import { EmailSettingsSchema } from "../../lib/settings/index.ts";
import { ssmFixture } from "../helpers/ssm.ts";

let n = 0;

export interface Captured {
  streams: CliStreams;
  out: () => string;
  err: () => string;
}

export function capture(stdinText = ""): Captured {
  let out = "";
  let err = "";
  return {
    streams: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdin: Readable.from([stdinText]) as CliStreams["stdin"],
    },
    out: () => out,
    err: () => err,
  };
}

export const motoEnv = () => {
  const endpoint = inject("motoEndpoint");
  return {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpoint,
  };
};

/** The two queues made with SQS's API (see deployedStack's sqsQueues). */
async function apiQueues(name: string, endpoint: string) {
  const sqs = new SQSClient({ endpoint, region: "us-east-1", maxAttempts: 1 });
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
    .Attributes?.QueueArn as string;
  return { url, dlqUrl, arn };
}

/** send-notification's timeout as the stack sizes it: the default SMTPServerTimeout, batches of 10, the pool and rate below. */
export const SEND_NOTIFICATION_TIMEOUT_SECONDS = sendNotificationTimeoutSeconds(
  EmailSettingsSchema.parse({}).SMTPServerTimeout,
  10,
  2,
  0.5,
);

export async function deployedStack({
  functionEnv = {},
  testEndpointUrl = "http://127.0.0.1:9/email/test",
  stackSettings = {},
  name = `cli-${process.pid}-${Date.now()}-${++n}`,
  sqsQueues = false,
}: {
  functionEnv?: Record<string, string>;
  testEndpointUrl?: string;
  /** EmailSettings the stack stores from its context: AWS::SSM::Parameter resources it owns. */
  stackSettings?: Record<string, string>;
  /** The stack's name: unique by default; the docs' examples use the default stack name. */
  name?: string;
  /**
   * Make the queues with SQS's own API, not CloudFormation's: moto then answers with queue URLs on
   * its own address, which the AWS CLI (it sends to the queue URL's host) can reach.
   */
  sqsQueues?: boolean;
} = {}) {
  const ssm = ssmFixture();
  const env = motoEnv();
  const cfn = new CloudFormationClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: "us-east-1",
    maxAttempts: 1,
  });
  const role = { "Fn::GetAtt": ["Role", "Arn"] };
  const made = sqsQueues ? await apiQueues(name, env.AWS_ENDPOINT_URL) : undefined;
  const queueResources = made
    ? {}
    : {
        DeadLetterQueue: { Type: "AWS::SQS::Queue", Properties: { QueueName: `${name}-dlq` } },
        NotificationQueue: { Type: "AWS::SQS::Queue", Properties: { QueueName: name } },
      };
  const queueArn = made ? made.arn : { "Fn::GetAtt": ["NotificationQueue", "Arn"] };
  const fn = (variables: Record<string, string>, timeoutSeconds?: number) => ({
    Type: "AWS::Lambda::Function",
    Properties: {
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: role,
      ...(timeoutSeconds ? { Timeout: timeoutSeconds } : {}),
      Code: { ZipFile: "exports.handler = async () => ({})" },
      Environment: { Variables: variables },
    },
  });
  const template = {
    Resources: {
      ...queueResources,
      Role: {
        Type: "AWS::IAM::Role",
        Properties: { AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } },
      },
      sendnotificationF1A2B3C4: fn(
        {
          SETTINGS_PATH: ssm.root,
          NOTIFICATION_POOL_SIZE: "2",
          SEND_RATE_PER_SECOND: "0.5",
          SEND_SCHEDULE_TABLE: "mm-email-SendSchedule",
          FLEET_SEND_RATE_PER_SECOND: "1.5",
          ...functionEnv,
        },
        SEND_NOTIFICATION_TIMEOUT_SECONDS,
      ),
      securityalertcheckD5E6F7A8: fn({ SETTINGS_PATH: ssm.root }),
      sendnotificationlogs9A8B7C6D: {
        Type: "AWS::Logs::LogGroup",
        Properties: { LogGroupName: `/aws/lambda/${name}-send-notification` },
      },
      ...Object.fromEntries(
        Object.entries(stackSettings).map(([setting, value]) => [
          `Setting${setting}0A1B2C3D`,
          {
            Type: "AWS::SSM::Parameter",
            Properties: { Name: `${ssm.root}/EmailSettings/${setting}`, Type: "String", Value: value },
          },
        ]),
      ),
      Mapping: {
        Type: "AWS::Lambda::EventSourceMapping",
        Properties: {
          FunctionName: { Ref: "sendnotificationF1A2B3C4" },
          EventSourceArn: queueArn,
          ScalingConfig: { MaximumConcurrency: 3 },
        },
      },
    },
    Outputs: {
      NotificationQueueUrl: { Value: made ? made.url : { Ref: "NotificationQueue" } },
      NotificationQueueArn: { Value: queueArn },
      DeadLetterQueueUrl: { Value: made ? made.dlqUrl : { Ref: "DeadLetterQueue" } },
      TestEndpointUrl: { Value: testEndpointUrl },
      PasswordParameterName: { Value: `${ssm.root}/EmailSettings/SMTPPassword` },
    },
  };
  await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
  return {
    name,
    ssm,
    env,
    /** send-notification's log group, as the stack names it. */
    logGroup: `/aws/lambda/${name}-send-notification`,
    /** A CLI context for this stack, its streams captured. */
    cli(stdinText = "", options: GlobalOptions = {}): Captured & { ctx: CliContext } {
      const c = capture(stdinText);
      return { ...c, ctx: createContext(c.streams, { stack: name, ...options }, env) };
    },
  };
}
