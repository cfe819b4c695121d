/**
 * Names the deployed stack is known by, shared by the stack that declares them and the operator's
 * command line that finds them (cli/): the stack's default name, its outputs, and how CDK names a
 * function's resource. Plain constants: the command line imports this without CDK.
 */
import type { FunctionName } from "../functions/create-function.ts";

/** The stack's name when the `stackName` context is unset (infra/app.ts). */
export const DEFAULT_STACK_NAME = "MattermostEmail";

/** The stack's CfnOutput ids (infra/stack.ts). */
export const STACK_OUTPUTS = {
  notificationQueueUrl: "NotificationQueueUrl",
  notificationQueueArn: "NotificationQueueArn",
  deadLetterQueueUrl: "DeadLetterQueueUrl",
  testEndpointUrl: "TestEndpointUrl",
  passwordParameterName: "PasswordParameterName",
  alarmTopicArn: "AlarmTopicArn",
} as const;

/** CDK's logical id of a function starts with its construct id without the hyphens (`sendnotification…`). */
export const functionLogicalIdPrefix = (name: FunctionName): string => name.replaceAll("-", "");

/** The construct id of a function's own log group (infra/constructs/email-function.ts). */
export const logGroupConstructId = (name: FunctionName): string => `${name}-logs`;

/** CDK's logical id of a function's log group starts so (`sendnotificationlogs…`). */
export const logGroupLogicalIdPrefix = (name: FunctionName): string =>
  logGroupConstructId(name).replaceAll("-", "");

/**
 * The context keys whose values the stack stores as SSM parameters it owns (infra/config.ts,
 * infra/constructs/settings-parameters.ts), by the folder under the settings root they go to.
 * `mm-email` refuses to change a parameter the stack owns and names the key to change instead.
 */
export const OWNED_PARAMETER_CONTEXT = {
  EmailSettings: "emailSettings",
  EmailTransportSettings: "emailTransportSettings",
  SecurityAlerts: "securityAlertRecipients",
} as const;
