import { App } from "aws-cdk-lib";
import { EmailStack } from "./stack.ts";

const app = new App();
new EmailStack(app, "MattermostEmail", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
