/** The CDK app: `npx cdk synth` works offline, `npx cdk deploy` deploys. Context: infra/config.ts. */
import { App } from "aws-cdk-lib";
import { type DeploymentConfig, DeploymentConfigError, deploymentConfig } from "./config.ts";
import { addNagChecks } from "./nag.ts";
import { EmailStack } from "./stack.ts";

const app = new App();
let config: DeploymentConfig;
try {
  config = deploymentConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
} catch (error) {
  // A bad context value is the operator's to fix: its message, not a stack trace around it.
  if (!(error instanceof DeploymentConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
const stack = new EmailStack(app, config.stackName, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: "Mattermost email: notifications, security alerts and the SMTP connection test",
});
addNagChecks(app, stack);
