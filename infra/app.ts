/** The CDK app: `npx cdk synth` works offline, `npx cdk deploy` deploys. Context: infra/config.ts. */
import { App } from "aws-cdk-lib";
import { deploymentConfig } from "./config.ts";
import { addNagChecks } from "./nag.ts";
import { DEFAULT_STACK_NAME } from "./outputs.ts";
import { EmailStack } from "./stack.ts";

const app = new App();
const stack = new EmailStack(app, app.node.tryGetContext("stackName") ?? DEFAULT_STACK_NAME, {
  config: deploymentConfig((key) => app.node.tryGetContext(key)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: "Mattermost email: notifications, security alerts and the SMTP connection test",
});
addNagChecks(app, stack);
