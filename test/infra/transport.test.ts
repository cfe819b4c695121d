/**
 * The product's own settings in the stack: absent, the template is byte for byte the one the
 * stack made before they existed (a deployment that sets nothing new changes nothing); present,
 * the functions read and decrypt that section, and Transport ses gives the roles exactly the SES
 * actions sending needs, on the sending identity alone.
 */

import { readFileSync } from "node:fs";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { DeploymentConfigError } from "../../infra/config.ts";
import { DEAD_LETTER_MAX_BYTES, NOTIFICATION_MAX_BYTES } from "../../lib/aws-sqs/index.ts";
import { buildStack, statementsOf } from "./synth.ts";

const synth = (context: Record<string, unknown>) => Template.fromStack(buildStack({ context }).stack);

/** The template as JSON with the code's asset hashes (which change with every code change) left out. */
const normalised = (t: Template) =>
  JSON.parse(JSON.stringify(t.toJSON()).replace(/"[0-9a-f]{64}\.zip"/g, '"<asset>.zip"')) as Record<
    string,
    unknown
  >;
const baseline = (name: string) =>
  JSON.parse(readFileSync(new URL(`./baseline/${name}.json`, import.meta.url), "utf8")) as Record<
    string,
    unknown
  >;

const smtpContext = {
  emailSettings: {
    SMTPServer: "smtp.example.com",
    SMTPPort: 587,
    ConnectionSecurity: "STARTTLS",
    SMTPUsername: "mailer",
    FeedbackEmail: "noreply@example.com",
  },
  provider: "microsoft-365",
  passwordKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
};

const variables = (t: Template) =>
  Object.entries(t.findResources("AWS::Lambda::Function")).map(
    ([id, fn]) => [id, fn.Properties.Environment.Variables] as const,
  );

/**
 * Resources added to every stack since the baseline was made, on purpose, by their construct ids:
 * the alarm on refusals the settings caused (issue 19), the dashboard and the alarms on throttles
 * that persist and on late notifications (issue 20). The defaults'
 * baseline was made again when every stack got the send schedule's table (issue 19: the fleet
 * learns a rate in it), with nothing else changed (the smtp one, whose provider has a rate, did not
 * change).
 */
const ADDED_SINCE_BASELINE = [
  "SettingsRefusedAlarm",
  "ThrottlesPersistAlarm",
  "LateNotificationsAlarm",
  "Dashboard",
];

/**
 * Variables added since the baseline, on purpose: send-notification is told the provider's
 * connection limit when the stack knows one, so the fleet counts no connections of its own
 * (issue 19; the smtp baseline's provider has one).
 */
const VARIABLES_ADDED_SINCE_BASELINE = ["FLEET_MAX_CONNECTIONS"];

/**
 * The notification queue's visibility timeout, changed on purpose since the baseline: the
 * function's timeout, not six times it (issue 19: a batch killed in a container's init waited 13
 * minutes). Read back into the baseline's six times, so the rest is compared as it was.
 */
const VISIBILITY_BEFORE_ISSUE_19 = (functionTimeout: number) => functionTimeout * 6;

/**
 * The notification queue's and its dead-letter queue's maximum message sizes, set since the
 * baseline: the notification queue 4 KiB under SQS's default (1 MiB, which the dead-letter queue
 * keeps), so the largest record fits as a letter with its reason's attributes.
 */
const QUEUE_SIZES_SET_SINCE_BASELINE = [NOTIFICATION_MAX_BYTES, DEAD_LETTER_MAX_BYTES];

const withoutLaterAdditions = (template: Record<string, unknown>) => {
  const resources = template.Resources as Record<string, unknown>;
  const kept = Object.entries(resources).filter(
    ([id]) => !ADDED_SINCE_BASELINE.some((added) => new RegExp(`^${added}[0-9A-F]{8}$`).test(id)),
  );
  expect(kept.length).toBe(Object.keys(resources).length - ADDED_SINCE_BASELINE.length);
  for (const [, resource] of kept) {
    const r = resource as {
      Type?: string;
      Properties?: {
        Environment?: { Variables?: Record<string, unknown> };
        VisibilityTimeout?: number;
        MaximumMessageSize?: number;
      };
    };
    const vars = r.Properties?.Environment?.Variables;
    for (const name of VARIABLES_ADDED_SINCE_BASELINE) if (vars) delete vars[name];
    // The notification queue's (the only one whose visibility is the function's timeout: 130 s).
    if (r.Type === "AWS::SQS::Queue" && r.Properties?.VisibilityTimeout === 130) {
      r.Properties.VisibilityTimeout = VISIBILITY_BEFORE_ISSUE_19(130);
    }
    if (r.Type === "AWS::SQS::Queue" && r.Properties) {
      const size = r.Properties.MaximumMessageSize;
      if (size !== undefined && QUEUE_SIZES_SET_SINCE_BASELINE.includes(size))
        delete r.Properties.MaximumMessageSize;
    }
  }
  return { ...template, Resources: Object.fromEntries(kept) };
};

describe("a deployment that sets nothing new", () => {
  it.each([
    ["defaults", {}],
    ["smtp", smtpContext],
  ])(
    "makes exactly the template of before (%s), but for what later issues added to every stack",
    (name, context) => {
      expect(withoutLaterAdditions(normalised(synth(context)))).toEqual(baseline(name));
    },
  );
});

describe("emailTransportSettings in context", () => {
  it("turns the section on: the functions read it, may read its parameters and decrypt its secrets", () => {
    const t = synth({
      ...smtpContext,
      emailTransportSettings: {
        SMTPAuthMethod: "oauth2-microsoft",
        OAuth2TenantId: "contoso.onmicrosoft.com",
        OAuth2ClientId: "0a1b2c3d",
      },
    });
    for (const [, vars] of variables(t)) expect(vars.READ_TRANSPORT_SETTINGS).toBe("true");
    const read = statementsOf(t, "sendnotificationrole").find((s) => s.Sid === "ReadSettingsByName");
    const text = JSON.stringify(read?.Resource);
    for (const name of [
      "SMTPAuthMethod",
      "OAuth2ClientSecret",
      "OAuth2ClientCertificate",
      "OAuth2ServiceAccountKey",
      "SESMessageTags",
    ]) {
      expect(text).toContain(`parameter/mattermost/EmailTransportSettings/${name}`);
    }
    const decrypt = statementsOf(t, "sendnotificationrole").find(
      (s) => s.Sid === "DecryptPasswordViaSsmOnly",
    );
    const arns = JSON.stringify(decrypt?.Condition?.StringEquals?.["kms:EncryptionContext:PARAMETER_ARN"]);
    expect(arns).toContain("EmailSettings/SMTPPassword");
    expect(arns).toContain("EmailTransportSettings/OAuth2ClientSecret");
    expect(arns).toContain("EmailTransportSettings/OAuth2ServiceAccountKey");
    expect(arns).not.toContain("EmailTransportSettings/OAuth2TenantId");
    t.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/mattermost/EmailTransportSettings/SMTPAuthMethod",
      Value: "oauth2-microsoft",
      Description: "EmailTransportSettings.SMTPAuthMethod (managed by the stack)",
    });
    t.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/mattermost/EmailTransportSettings/OAuth2TenantId",
    });
  });

  it("{} turns the section on and stores nothing", () => {
    const t = synth({ emailTransportSettings: {} });
    for (const [, vars] of variables(t)) expect(vars.READ_TRANSPORT_SETTINGS).toBe("true");
    expect(JSON.stringify(t.findResources("AWS::SSM::Parameter"))).not.toContain("EmailTransportSettings");
  });
});

describe("Transport ses", () => {
  const ses = {
    emailSettings: { FeedbackEmail: "noreply@chat.example", SMTPServer: "smtp.example.com" },
    emailTransportSettings: { Transport: "ses", SESConfigurationSet: "notifications" },
  };

  it("lets every sender call SendEmail on the identity and the configuration set, nothing more", () => {
    const t = synth(ses);
    const identity = (name: string) => ({
      "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, `:ses:eu-west-1:123456789012:identity/${name}`]],
    });
    const configurationSet = {
      "Fn::Join": [
        "",
        ["arn:", { Ref: "AWS::Partition" }, ":ses:eu-west-1:123456789012:configuration-set/notifications"],
      ],
    };
    for (const role of ["sendnotificationrole", "securityalertcheckrole", "connectiontestrole"]) {
      const send = statementsOf(t, role).filter((s) => JSON.stringify(s.Action).includes("ses:"));
      const sendAs = send.find((s) => s.Sid === "SendAsTheIdentity");
      expect(sendAs).toMatchObject({
        Action: ["ses:SendEmail", "ses:SendRawEmail"],
        Resource: [identity("chat.example"), configurationSet],
      });
      if (role !== "connectiontestrole") expect(send).toHaveLength(1);
    }
    const tester = statementsOf(t, "connectiontestrole");
    expect(tester.find((s) => s.Sid === "ReadTheAccountsQuota")).toMatchObject({
      Action: "ses:GetAccount",
      Resource: "*",
    });
    expect(tester.find((s) => s.Sid === "ReadTheSendingIdentity")).toMatchObject({
      Action: "ses:GetEmailIdentity",
      Resource: identity("chat.example"),
    });
  });

  it("sesIdentity names the identity over FeedbackEmail's domain; an address adds its own", () => {
    const t = synth({ ...ses, sesIdentity: "alerts@mail.chat.example" });
    const text = JSON.stringify(
      statementsOf(t, "sendnotificationrole").find((s) => s.Sid === "SendAsTheIdentity")?.Resource,
    );
    expect(text).toContain("identity/mail.chat.example");
    expect(text).toContain("identity/alerts@mail.chat.example");
    expect(text).not.toContain('identity/chat.example"');
  });

  it("connects to no SMTP server at a cold start", () => {
    for (const [, vars] of variables(synth(ses))) expect(vars.SMTP_PRECONNECT).toBeUndefined();
  });

  it("needs to know the identity", () => {
    expect(() => synth({ emailTransportSettings: { Transport: "ses" } })).toThrow(
      /Transport is ses but neither sesIdentity nor emailSettings\.FeedbackEmail says what the functions may send as/,
    );
  });
});

describe("the two sections' context keys", () => {
  it.each([
    [
      { emailTransportSettings: { OAuth2ClientSecret: "s3cret" } },
      /OAuth2ClientSecret must not be in context \(it would be stored in plain text\)/,
    ],
    [
      { emailSettings: { Transport: "ses" } },
      /Transport is not in emailSettings: put it in emailTransportSettings/,
    ],
    [
      { emailTransportSettings: { SMTPServer: "x" } },
      /SMTPServer is not in emailTransportSettings: put it in emailSettings/,
    ],
    [
      { emailTransportSettings: { SMTPAuthMethod: "kerberos" } },
      /SMTPAuthMethod \(cdk context emailTransportSettings\.SMTPAuthMethod = "kerberos"\) must be one of/,
    ],
  ])("%j is refused, naming the key and the rule", (context, rule) => {
    expect(() => synth(context)).toThrow(DeploymentConfigError);
    expect(() => synth(context)).toThrow(rule);
  });
});
