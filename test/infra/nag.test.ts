/** cdk-nag's AwsSolutions pack over the real stack: zero unacknowledged findings, in every shape. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { buildStack } from "./synth.ts";

function synthFindings(context: Record<string, unknown>): string {
  const { app, outdir } = buildStack({ context, nag: true });
  try {
    app.synth();
    return "";
  } catch (error) {
    try {
      return readFileSync(join(outdir, "validation-report.json"), "utf8");
    } catch {
      return String(error);
    }
  }
}

describe("cdk-nag AwsSolutions", () => {
  it.each([
    ["defaults", {}],
    [
      "every option",
      {
        emailSettings: { SMTPServer: "smtp.example.com", SMTPPort: 587, ConnectionSecurity: "STARTTLS" },
        securityAlertRecipients: "a@example.com",
        eventBridge: { pattern: { source: ["chat.server"] } },
        vpc: { vpcId: "vpc-0abc", subnetIds: ["subnet-01"], securityGroupIds: ["sg-01"] },
        alarmEmail: "ops@example.com",
        passwordKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      },
    ],
    ["provider limits", { provider: "microsoft-365", maxConnections: 6 }],
    [
      "SES's API, OAuth2 settings and a customer managed key",
      {
        emailSettings: { FeedbackEmail: "noreply@example.com" },
        emailTransportSettings: { Transport: "ses", SESConfigurationSet: "notifications" },
        passwordKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        provider: "ses-production",
      },
    ],
  ])("has no unacknowledged findings (%s)", (_name, context) => {
    expect(synthFindings(context)).toBe("");
  });

  it("would report a finding (the check is live)", () => {
    const { app, stack, outdir } = buildStack({ nag: true });
    // An unencrypted, non-TLS queue without a DLQ is three findings.
    new sqs.Queue(stack, "Careless", { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
    expect(readFileSync(join(outdir, "validation-report.json"), "utf8")).toContain("AwsSolutions-SQS4");
  });
});
