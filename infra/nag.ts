/**
 * cdk-nag's AwsSolutions pack runs on every synth (CDK policy validation). The findings this
 * design accepts are acknowledged here, each on the construct it concerns and with its reason;
 * anything else fails the synth.
 */
import { type App, Stack, Token, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { SENT_MARKER_PATHS } from "./constructs/settings-parameters.ts";
import type { EmailStack } from "./stack.ts";

const iam5 = (resource: string) => `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`;

export function addNagChecks(app: App, stack: EmailStack): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  // cdk-nag names a finding by the resource as synthesized: tokens appear as <AWS::...>.
  const region = Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region;
  const account = Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account;
  const alertCheck = stack.functions["security-alert-check"];

  // One parameter per bulletin id, created at run time: no narrower resource can exist.
  for (const path of SENT_MARKER_PATHS) {
    Validations.of(alertCheck.role ?? alertCheck).acknowledge({
      id: iam5(`arn:<AWS::Partition>:ssm:${region}:${account}:parameter${stack.settingsPath}/${path}`),
      reason:
        "Sent and takeover markers are named by bulletin id at run time; the wildcard stops at this folder.",
    });
  }
  // CDK's scheduler role may invoke the function's versions and aliases (":*"), nothing else.
  const logicalId = Stack.of(alertCheck).getLogicalId(alertCheck.node.defaultChild as never);
  Validations.of(stack).acknowledge({
    id: iam5(`<${logicalId}.Arn>:*`),
    reason: "The schedule's role invokes this one function, including its versions and aliases.",
  });
  Validations.of(stack.alertFailures).acknowledge({
    id: "AwsSolutions::AwsSolutions-SQS3",
    reason: "This queue is the alert check's failure destination: it is the dead-letter queue.",
  });
  Validations.of(stack.sendSchedule.table).acknowledge({
    id: "AwsSolutions::AwsSolutions-DDB3",
    reason:
      "The send schedule holds one slot time that is stale within seconds, and a learned rate relearned at the next throttle: there is nothing to recover to a point in time.",
  });
  if (stack.sesSending) {
    Validations.of(stack.functions["connection-test"].role ?? stack).acknowledge({
      id: iam5("*"),
      reason: "SES's GetAccount (the connection test's quota check) supports no resource-level permission.",
    });
  }
  if (stack.vpcPlaced) {
    Validations.of(stack).acknowledge({
      id: iam5("*"),
      reason: "Lambda's VPC network interface actions support no resource-level permissions.",
    });
  }
}
