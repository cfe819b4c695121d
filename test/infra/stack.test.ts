/**
 * The synthesized template, resource by resource: what the stack deploys, how it is wired and
 * exactly what each function's role may do.
 */

import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { DeploymentConfigError } from "../../infra/config.ts";
import { DEFAULT_MEMORY_MB } from "../../infra/constructs/email-function.ts";
import { logGroupLogicalIdPrefix } from "../../infra/outputs.ts";
import { deriveSendLimits, formatRate, PROVIDER_PRESETS } from "../../infra/provider-limits.ts";
import { SEND_SCHEDULE_KEY } from "../../lib/aws-dynamodb/index.ts";
import { DEAD_LETTER_MAX_BYTES, NOTIFICATION_MAX_BYTES } from "../../lib/aws-sqs/index.ts";
import { METRICS, METRICS_NAMESPACE } from "../../lib/metrics/index.ts";
import { RETRY_POLICY } from "../../lib/notifications/backoff.ts";
import { buildStack, type Statement, statementsOf } from "./synth.ts";

const template = (context?: Record<string, unknown>) => {
  const { stack } = buildStack(context ? { context } : {});
  return { t: Template.fromStack(stack), stack };
};

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourceText = (s: Statement) => JSON.stringify(s.Resource);

describe("functions", () => {
  it("each has its own log group, named so mm-email trace finds send-notification's (infra/outputs.ts)", () => {
    const { t } = template();
    const groups = Object.keys(t.findResources("AWS::Logs::LogGroup"));
    for (const fn of ["send-notification", "security-alert-check", "connection-test"] as const) {
      expect(groups.filter((id) => id.startsWith(logGroupLogicalIdPrefix(fn)))).toHaveLength(1);
    }
  });

  const { t } = template();
  const functions = t.findResources("AWS::Lambda::Function");

  it("are three, on nodejs24.x, arm64, each with its own log group and retention", () => {
    expect(Object.keys(functions)).toHaveLength(3);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
      });
      expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/logs/) });
      expect(fn.Properties.Environment.Variables).toMatchObject({ SETTINGS_PATH: "/mattermost" });
    }
    const groups = Object.values(t.findResources("AWS::Logs::LogGroup"));
    expect(groups).toHaveLength(4); // three functions and the endpoint's access logs
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it("have timeouts that exceed SMTPServerTimeout with room for a batch", () => {
    const byName = (prefix: string) =>
      Object.entries(functions).find(([id]) => id.startsWith(prefix))?.[1]?.Properties as Record<
        string,
        unknown
      >;
    // T = 10 s, 10 records over one connection: 10 × (10 + 2) + 10.
    expect(byName("sendnotification")).toMatchObject({ Timeout: 130, MemorySize: DEFAULT_MEMORY_MB });
    expect(DEFAULT_MEMORY_MB).toBe(512);
    expect(byName("sendnotification").Environment).toMatchObject({
      Variables: { NOTIFICATION_POOL_SIZE: "1" },
    });
    expect(byName("securityalertcheck")).toMatchObject({ Timeout: 120 });
    expect(byName("securityalertcheck").Environment).toMatchObject({
      Variables: { APP_VERSION: "10.5.1", SECURITY_FEED_URL: "https://securityupdatecheck.mattermost.com" },
    });
    expect(byName("connectiontest")).toMatchObject({ Timeout: 29 });
  });

  it("follow SMTPServerTimeout from context", () => {
    const { t: slow } = template({ emailSettings: { SMTPServerTimeout: 30 } });
    const send = Object.entries(slow.findResources("AWS::Lambda::Function")).find(([id]) =>
      id.startsWith("sendnotification"),
    );
    expect(send?.[1].Properties.Timeout).toBe(370);
  });
});

describe("notification queue", () => {
  const { t } = template();

  it("redrives to a dead-letter queue after the back-off's 100 receives, with the function's timeout as visibility", () => {
    expect(RETRY_POLICY.receiveLimit).toBe(100);
    t.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: 130,
      RedrivePolicy: { maxReceiveCount: RETRY_POLICY.receiveLimit, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
    t.resourceCountIs("AWS::SQS::Queue", 3); // queue, its DLQ, the alert failure queue
  });

  it("gives its dead-letter queue room for the largest record and its reason's attributes", () => {
    expect(DEAD_LETTER_MAX_BYTES).toBeGreaterThan(NOTIFICATION_MAX_BYTES);
    t.hasResourceProperties("AWS::SQS::Queue", {
      MaximumMessageSize: NOTIFICATION_MAX_BYTES,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: RETRY_POLICY.receiveLimit }),
    });
    t.hasResourceProperties("AWS::SQS::Queue", {
      MaximumMessageSize: DEAD_LETTER_MAX_BYTES,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("feeds the function in batches with partial batch responses", () => {
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("enforces TLS on every queue", () => {
    const policies = Object.values(t.findResources("AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(3);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("exports its URL and ARN", () => {
    const outputs = t.findOutputs("*");
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        "NotificationQueueUrl",
        "NotificationQueueArn",
        "DeadLetterQueueUrl",
        "TestEndpointUrl",
      ]),
    );
  });

  it("takes an optional EventBridge rule from context", () => {
    expect(Object.keys(t.findResources("AWS::Events::Rule"))).toHaveLength(0);
    const { t: withRule } = template({
      eventBridge: {
        busName: "chat-events",
        pattern: { source: ["chat.server"], "detail-type": ["Notification Requested"] },
      },
    });
    withRule.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: "chat-events",
      EventPattern: { source: ["chat.server"], "detail-type": ["Notification Requested"] },
      Targets: [Match.objectLike({ Arn: Match.anyValue(), DeadLetterConfig: Match.anyValue() })],
    });
  });
});

describe("send-notification and its queues", () => {
  const { t, stack } = template();
  const logicalId = (q: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(q.node.defaultChild as never);
  const queueId = logicalId(stack.queue);
  const dlqId = logicalId(stack.deadLetterQueue);
  const variablesOf = (prefix: string) =>
    Object.entries(t.findResources("AWS::Lambda::Function")).find(([id]) => id.startsWith(prefix))?.[1]
      ?.Properties.Environment.Variables as Record<string, unknown>;

  it("gets both queues' URLs, and no other function does", () => {
    expect(variablesOf("sendnotification")).toMatchObject({
      NOTIFICATION_QUEUE_URL: { Ref: queueId },
      DEAD_LETTER_QUEUE_URL: { Ref: dlqId },
    });
    for (const fn of ["securityalertcheck", "connectiontest"]) {
      expect(variablesOf(fn).NOTIFICATION_QUEUE_URL).toBeUndefined();
      expect(variablesOf(fn).DEAD_LETTER_QUEUE_URL).toBeUndefined();
    }
  });

  it("may change visibility on the queue and send to the dead-letter queue, nothing more", () => {
    const sqsStatements = statementsOf(t, "sendnotification").filter((s) =>
      actions(s).some((a) => a.startsWith("sqs:")),
    );
    const on = (id: string) => sqsStatements.filter((s) => resourceText(s).includes(id));
    // every SQS statement names one of the two queues, by its ARN
    for (const s of sqsStatements) {
      expect(s.Resource, JSON.stringify(s)).toEqual({
        "Fn::GetAtt": [expect.stringMatching(/^(NotificationQueue|NotificationDLQ)/), "Arn"],
      });
    }
    expect(on(queueId).flatMap(actions)).toContain("sqs:ChangeMessageVisibility");
    expect(on(queueId).flatMap(actions)).not.toContain("sqs:SendMessage");
    expect(on(dlqId).flatMap(actions)).toEqual(["sqs:SendMessage"]);
  });

  it("synthesizes whole: the environment naming the queue and the event source naming the function make no cycle", () => {
    const { app } = buildStack();
    expect(() => app.synth()).not.toThrow();
  });
});

describe("provider limits", () => {
  const sendFunction = (t: Template) =>
    Object.entries(t.findResources("AWS::Lambda::Function")).find(([id]) =>
      id.startsWith("sendnotification"),
    )?.[1]?.Properties as { Timeout: number; Environment: { Variables: Record<string, unknown> } };
  const scaling = (t: Template) =>
    Object.values(t.findResources("AWS::Lambda::EventSourceMapping"))[0]?.Properties.ScalingConfig;

  it("microsoft-365: 2 containers, one connection each, a quarter message a second each", () => {
    const { t } = template({ provider: "microsoft-365" });
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 2 },
      BatchSize: 10,
    });
    expect(sendFunction(t).Environment.Variables).toMatchObject({
      NOTIFICATION_POOL_SIZE: "1",
      SEND_RATE_PER_SECOND: "0.25",
    });
  });

  it.each(Object.keys(PROVIDER_PRESETS).filter((name) => name !== "unlimited"))(
    "%s: the template carries the derived figures",
    (provider) => {
      const expected = deriveSendLimits(PROVIDER_PRESETS[provider as keyof typeof PROVIDER_PRESETS], 1);
      const { t } = template({ provider });
      expect(scaling(t)).toEqual({ MaximumConcurrency: expected.maxConcurrency });
      const variables = sendFunction(t).Environment.Variables;
      expect(variables.NOTIFICATION_POOL_SIZE).toBe(String(expected.poolSize));
      expect(variables.SEND_RATE_PER_SECOND).toBe(
        expected.perContainerRate === undefined ? undefined : formatRate(expected.perContainerRate),
      );
      // The fleet is sized under the connection limit: it counts no connections of its own.
      const { maxConnections } = PROVIDER_PRESETS[provider as keyof typeof PROVIDER_PRESETS];
      expect(variables.FLEET_MAX_CONNECTIONS).toBe(
        maxConnections === undefined ? undefined : String(maxConnections),
      );
    },
  );

  it.each<[string, Record<string, unknown>, string]>([
    ["by default", {}, "1"],
    ["when named", { provider: "unlimited", notificationPoolSize: 3 }, "3"],
  ])(
    "unlimited (%s) leaves MaximumConcurrency out and SEND_RATE_PER_SECOND unset",
    (_name, context, pool) => {
      const { t } = template(context);
      expect(scaling(t)).toBeUndefined();
      t.hasResourceProperties("AWS::Lambda::EventSourceMapping", { ScalingConfig: Match.absent() });
      const variables = sendFunction(t).Environment.Variables;
      expect(variables.SEND_RATE_PER_SECOND).toBeUndefined();
      // No connection limit known: the fleet counts its connections and learns it.
      expect(variables.FLEET_MAX_CONNECTIONS).toBeUndefined();
      expect(variables.NOTIFICATION_POOL_SIZE).toBe(pool);
    },
  );

  it("gives a fleet with a rate its send schedule: a table, its name and the fleet's rate, two calls on it alone", () => {
    const { t } = template({ provider: "ses-sandbox" });
    t.resourceCountIs("AWS::DynamoDB::Table", 1);
    t.hasResource("AWS::DynamoDB::Table", {
      Properties: {
        KeySchema: [{ AttributeName: SEND_SCHEDULE_KEY.attribute, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      },
      DeletionPolicy: "Delete",
    });
    const tableId = Object.keys(t.findResources("AWS::DynamoDB::Table"))[0] as string;
    expect(sendFunction(t).Environment.Variables).toMatchObject({
      SEND_SCHEDULE_TABLE: { Ref: tableId },
      FLEET_SEND_RATE_PER_SECOND: "1",
      SEND_RATE_PER_SECOND: "0.5",
    });
    const statements = statementsOf(t, "sendnotification").filter((st) =>
      actions(st).some((a) => a.startsWith("dynamodb:")),
    );
    expect(statements).toHaveLength(1);
    expect(actions(statements[0] as Statement).sort()).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(resourceText(statements[0] as Statement)).toContain(tableId);
    for (const fn of ["securityalertcheck", "connectiontest"]) {
      expect(JSON.stringify(statementsOf(t, fn))).not.toContain("dynamodb:");
    }
  });

  it.each([{}, { provider: "postfix" }])(
    "without a rate (%j), makes the schedule's table to hold the rate the fleet learns, and no rate",
    (context) => {
      const { t } = template(context);
      t.resourceCountIs("AWS::DynamoDB::Table", 1);
      const variables = sendFunction(t).Environment.Variables;
      expect(variables.SEND_SCHEDULE_TABLE).toEqual({ Ref: expect.stringMatching(/^SendSchedule/) });
      expect(variables.FLEET_SEND_RATE_PER_SECOND).toBeUndefined();
      expect(variables.SEND_RATE_PER_SECOND).toBeUndefined();
    },
  );

  it("takes explicit values over the preset's, as -c passes them (strings)", () => {
    const { t } = template({ provider: "ses-production", maxSendRate: "50" });
    expect(scaling(t)).toEqual({ MaximumConcurrency: 5 });
    expect(sendFunction(t).Environment.Variables).toMatchObject({
      NOTIFICATION_POOL_SIZE: "1",
      SEND_RATE_PER_SECOND: "10",
    });
  });

  it("sizes the timeout by the derived pool, and by the paced batch when that is longer", () => {
    // postfix with 10 connections a container: 4 containers; 10 records over 10 connections.
    const { t: pooled } = template({ provider: "postfix", notificationPoolSize: 10 });
    expect(scaling(pooled)).toEqual({ MaximumConcurrency: 4 });
    expect(sendFunction(pooled).Environment.Variables.NOTIFICATION_POOL_SIZE).toBe("10");
    expect(sendFunction(pooled).Timeout).toBe(40); // 10 × (1 + 2) + 10
    // 0.1 a second over 2 containers: 0.05 each, 10 records paced over 200 s.
    const { t: paced } = template({ maxSendRate: 0.1, emailSettings: { SMTPServerTimeout: 2 } });
    expect(sendFunction(paced).Timeout).toBe(214); // 2 × 2 + 200 + 10, over 2 × 12 + 10
  });

  it("warns when a paced batch cannot fit Lambda's 15 minutes", () => {
    const { stack } = template({ maxSendRate: 0.01 });
    Annotations.fromStack(stack).hasWarning(
      "*",
      Match.stringLikeRegexp("A batch of 10 at 0.005 messages a second per container cannot be sent within"),
    );
    const { stack: quick } = template({ provider: "microsoft-365" });
    expect(Annotations.fromStack(quick).findWarning("*", Match.stringLikeRegexp("A batch of"))).toEqual([]);
  });
});

describe("security alert schedule", () => {
  const { t } = template();

  it("runs daily by default, with retries and a failure destination", () => {
    t.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "rate(1 day)",
      Target: Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    t.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it("takes its schedule from context", () => {
    template({ alertSchedule: "cron(0 6 * * ? *)" }).t.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0 6 * * ? *)",
    });
  });
});

describe("connection-test endpoint", () => {
  const { t } = template();

  it("is POST /email/test with IAM authorization", () => {
    t.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "POST /email/test",
      AuthorizationType: "AWS_IAM",
    });
    t.resourceCountIs("AWS::ApiGatewayV2::Route", 1);
  });

  it("is throttled and access-logged", () => {
    t.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 2, ThrottlingBurstLimit: 5 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
  });
});

describe("settings parameters", () => {
  it("hints send-notification alone at the SMTP server to preconnect to, when context names one", () => {
    const { t } = template({ emailSettings: { SMTPServer: "smtp.example.com", SMTPPort: 587 } });
    for (const [id, fn] of Object.entries(t.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.Environment.Variables.SMTP_PRECONNECT).toBe(
        id.startsWith("sendnotification") ? "smtp.example.com:587" : undefined,
      );
    }
    for (const fn of Object.values(template().t.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.Environment.Variables.SMTP_PRECONNECT).toBeUndefined();
    }
  });

  it("stores the non-secret settings from context, leaving out empty ones, and never the password", () => {
    const { t } = template({
      settingsPath: "/prod/chat",
      emailSettings: {
        SMTPServer: "smtp.example.com",
        SMTPPort: 587,
        ConnectionSecurity: "",
        EnableSMTPAuth: true,
      },
      securityAlertRecipients: "a@example.com,b@example.com",
    });
    const params = Object.values(t.findResources("AWS::SSM::Parameter")).map((p) => [
      p.Properties.Name,
      p.Properties.Value,
    ]);
    expect(params.sort()).toEqual([
      ["/prod/chat/EmailSettings/EnableSMTPAuth", "true"],
      ["/prod/chat/EmailSettings/SMTPPort", "587"],
      ["/prod/chat/EmailSettings/SMTPServer", "smtp.example.com"],
      ["/prod/chat/SecurityAlerts/Recipients", "a@example.com,b@example.com"],
    ]);
    expect(t.findOutputs("PasswordParameterName").PasswordParameterName?.Value).toBe(
      "/prod/chat/EmailSettings/SMTPPassword",
    );
  });

  it.each([
    [{ emailSettings: { SMTPPassword: "x" } }, /SMTPPassword must not be in context .* SecureString/],
    [
      { emailSettings: { SMTPPort: "smtp" } },
      /SMTPPort \(cdk context emailSettings\.SMTPPort = "smtp"\) must be a whole number/,
    ],
    [{ emailSettings: { SMTPHost: "x" } }, /unknown setting SMTPHost/],
    [{ settingsPath: "mattermost" }, /settingsPath: must be an SSM path/],
    [{ maxReceiveCount: 0 }, /maxReceiveCount/],
    [
      { maxReceiveCount: 3 },
      /maxReceiveCount: 3 lets a throttled record reach the dead-letter queue after 68 s .* must survive an hour .* use at least 82/,
    ],
    [{ provider: "sendgrid" }, /provider: must be one of ses-sandbox, ses-production, microsoft-365/],
    [{ maxConnections: 1 }, /maxConnections: must be a whole number of connections, at least 2/],
    [{ maxSendRate: 0 }, /maxSendRate: must be messages a second, above 0/],
  ])("rejects bad context %j at synth, naming the key", (context, message) => {
    expect(() => buildStack({ context })).toThrow(DeploymentConfigError);
    expect(() => buildStack({ context })).toThrow(message);
  });
});

describe("IAM, role by role", () => {
  const { t } = template();
  const settingsRead = (s: Statement) =>
    actions(s).join() === "ssm:GetParameters" &&
    resourceText(s).includes("/mattermost/EmailSettings/SMTPServer") &&
    resourceText(s).includes("/mattermost/EmailSettings/SMTPPassword") &&
    resourceText(s).includes("/mattermost/ServiceSettings/EnableSecurityFixAlert") &&
    resourceText(s).includes("/mattermost/SecurityAlerts/Recipients") &&
    !resourceText(s).includes("*");

  it.each(["sendnotification", "connectiontest"])(
    "%s reads its settings and writes its logs, nothing else",
    (fn) => {
      const statements = statementsOf(t, fn);
      for (const s of statements) {
        const ok =
          settingsRead(s) ||
          (actions(s).every((a) => a.startsWith("logs:")) && resourceText(s).includes(`${fn}logs`)) ||
          // the SQS event source: consume the notification queue, and only it
          (fn === "sendnotification" &&
            actions(s).every((a) => a.startsWith("sqs:")) &&
            resourceText(s).includes("NotificationQueue")) ||
          // the fleet's send schedule, when the provider limits a rate (not by default)
          (fn === "sendnotification" && resourceText(s).includes("SendSchedule")) ||
          // a record that can never succeed: to the dead-letter queue, send only
          (fn === "sendnotification" &&
            actions(s).join() === "sqs:SendMessage" &&
            resourceText(s).includes("NotificationDLQ"));
        expect(ok, JSON.stringify(s)).toBe(true);
        expect(resourceText(s)).not.toBe('"*"');
      }
      expect(statements.filter(settingsRead)).toHaveLength(1);
    },
  );

  it("the alert check alone may write sent markers, under SecurityAlerts only", () => {
    const statements = statementsOf(t, "securityalertcheck");
    const ssmWrite = (s: Statement) => actions(s).some((a) => /^ssm:(Put|Delete)/.test(a));
    const writes = statements.filter(ssmWrite);
    expect(writes).toHaveLength(1);
    expect(actions(writes[0] as Statement).sort()).toEqual([
      "ssm:DeleteParameter",
      "ssm:GetParameter",
      "ssm:PutParameter",
    ]);
    expect(resourceText(writes[0] as Statement)).toMatch(
      /parameter\/mattermost\/SecurityAlerts\/Sent\/\*.*parameter\/mattermost\/SecurityAlerts\/Takeover\/\*/,
    );
    for (const fn of ["sendnotification", "connectiontest"]) {
      expect(statementsOf(t, fn).some(ssmWrite)).toBe(false);
    }
  });

  it("decrypts via SSM only, and only when a customer managed key is named", () => {
    expect(JSON.stringify(statementsOf(t, "sendnotification"))).not.toContain("kms:");
    const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { t: withKey } = template({ passwordKmsKeyArn: key });
    const kms = statementsOf(withKey, "sendnotification").find((s) => actions(s).includes("kms:Decrypt"));
    expect(kms?.Resource).toBe(key);
    expect(JSON.stringify(kms?.Condition)).toContain('"kms:ViaService":"ssm.eu-west-1.amazonaws.com"');
    expect(JSON.stringify(kms?.Condition)).toContain("/mattermost/EmailSettings/SMTPPassword");
  });
});

describe("optional VPC placement", () => {
  it("puts every function in the given subnets and security groups", () => {
    const { t } = template({
      vpc: { vpcId: "vpc-0abc", subnetIds: ["subnet-01", "subnet-02"], securityGroupIds: ["sg-01"] },
    });
    for (const fn of Object.values(t.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: ["subnet-01", "subnet-02"],
        SecurityGroupIds: ["sg-01"],
      });
    }
  });
});

describe("alarms", () => {
  it("watch the DLQ, every function's errors and the alert schedule's failures, notifying an optional topic", () => {
    const { t } = template({ alarmEmail: "ops@example.com" });
    const alarms = Object.values(t.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual(
      [
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesVisible",
        METRICS.deferred.settings,
        METRICS.deferred.throttle,
        "Errors",
        "Errors",
        "Errors",
      ].sort(),
    );
    for (const a of alarms) {
      expect(a.Properties).toMatchObject({
        AlarmActions: [{ Ref: expect.stringMatching(/AlarmTopic/) }],
        // Recovery reaches the same people.
        OKActions: [{ Ref: expect.stringMatching(/AlarmTopic/) }],
      });
    }
    t.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
    const { stack } = buildStack({ context: { alarmEmail: "ops@example.com" } });
    expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("notify no one"))).toEqual(
      [],
    );
  });

  it("page on what an operator must act on: settings refusals, throttles that persist, late notifications", () => {
    const { t } = template({ lateAfterMinutes: 15 });
    const sendName = { Ref: expect.stringMatching(/^sendnotification[0-9A-F]{8}$/) };
    const alarm = (name: string) =>
      Object.values(t.findResources("AWS::CloudWatch::Alarm")).find((a) => a.Properties.MetricName === name)
        ?.Properties;
    // The functions' own metrics (EMF), by the function's name.
    expect(alarm(METRICS.deferred.settings)).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: "Function", Value: sendName }],
      Statistic: "Sum",
      Threshold: 1,
      EvaluationPeriods: 1,
    });
    expect(alarm(METRICS.deferred.throttle)).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Threshold: 1,
      EvaluationPeriods: 3,
      Period: 300,
    });
    expect(alarm("ApproximateAgeOfOldestMessage")).toMatchObject({
      Namespace: "AWS/SQS",
      Statistic: "Maximum",
      Threshold: 15 * 60,
      ComparisonOperator: "GreaterThanThreshold",
    });
    // Ten minutes unless the context says otherwise.
    expect(
      Object.values(template().t.findResources("AWS::CloudWatch::Alarm")).find(
        (a) => a.Properties.MetricName === "ApproximateAgeOfOldestMessage",
      )?.Properties.Threshold,
    ).toBe(600);
  });

  it("a dashboard: sent, deferred and dead-lettered a minute, event to accepted p50 and p99, the queue, throttles, errors and duration, the alert check's runs", () => {
    const { t } = template();
    const dashboards = Object.values(t.findResources("AWS::CloudWatch::Dashboard"));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const name of [
      METRICS.sent,
      METRICS.failed,
      ...Object.values(METRICS.deferred),
      ...Object.values(METRICS.deadLettered),
      METRICS.eventToAccepted,
      METRICS.sessionSetup,
      METRICS.bulletinsSent,
      "ApproximateAgeOfOldestMessage",
      "ApproximateNumberOfMessagesVisible",
      "Errors",
      "Duration",
      "Invocations",
    ]) {
      expect(body, name).toContain(`\\"${name}\\"`);
    }
    expect(body).toContain('\\"stat\\":\\"p99\\"');
    expect(body).toContain('\\"stat\\":\\"p50\\"');
  });

  it("have no actions when no topic is configured, and synth says the alarms notify no one", () => {
    for (const a of Object.values(template().t.findResources("AWS::CloudWatch::Alarm"))) {
      expect(a.Properties.AlarmActions).toBeUndefined();
    }
    const { stack } = buildStack();
    const warnings = Annotations.fromStack(stack).findWarning(
      "*",
      Match.stringLikeRegexp(
        "Neither alarmEmail nor alarmTopicArn is set in context: the alarms .* notify no one",
      ),
    );
    expect(warnings).toHaveLength(1);
  });
});

describe("the connection test's allowed hosts", () => {
  it("reach the connection-test function as TEST_ALLOWED_SMTP_HOSTS, and no other function", () => {
    const { stack } = buildStack({
      context: { testEndpointAllowedHosts: ["smtp.example.com", "*.relay.example.net"] },
    });
    const t = Template.fromStack(stack);
    const fns = t.findResources("AWS::Lambda::Function");
    const withHosts = Object.entries(fns).filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.TEST_ALLOWED_SMTP_HOSTS !== undefined,
    );
    expect(withHosts).toHaveLength(1);
    expect(withHosts[0]?.[1].Properties.Environment.Variables.TEST_ALLOWED_SMTP_HOSTS).toBe(
      "smtp.example.com,*.relay.example.net",
    );
    expect(withHosts[0]?.[0]).toBe(
      stack.getLogicalId(stack.functions["connection-test"].node.defaultChild as never),
    );
  });

  it("are refused at synth when an entry is not a host name", () => {
    expect(() => buildStack({ context: { testEndpointAllowedHosts: ["smtp example"] } })).toThrow(
      /testEndpointAllowedHosts\.0: must be a host name/,
    );
  });
});
