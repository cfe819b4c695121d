/**
 * The whole product on AWS: three functions, the notification queue and its dead-letter queue,
 * the security-alert schedule, the IAM-authorised connection-test endpoint, the non-secret
 * settings as SSM parameters, least-privilege IAM, and alarms.
 */
import { fileURLToPath } from "node:url";
import { Annotations, ArnFormat, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { EXTRA_PARAMETERS } from "../lib/settings/index.ts";
import { bundlingFor } from "./bundling.ts";
import type { DeploymentConfig } from "./config.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const entry = (name: string) => fileURLToPath(new URL(`../functions/${name}/handler.ts`, import.meta.url));

/** The parameters only the alert check may write, relative to the root. */
export const SENT_MARKER_PATHS = ["SecurityAlerts/Sent/*", "SecurityAlerts/Takeover/*"] as const;

export const FUNCTION_NAMES = ["send-notification", "security-alert-check", "connection-test"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

export interface EmailStackProps extends StackProps {
  config: DeploymentConfig;
}

export class EmailStack extends Stack {
  readonly functions: Record<FunctionName, nodejs.NodejsFunction>;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Failed security-alert invocations and schedule deliveries land here. */
  readonly alertFailures: sqs.Queue;
  readonly settingsPath: string;
  /** True when the functions run in a VPC (their roles then manage network interfaces). */
  readonly vpcPlaced: boolean;

  constructor(scope: Construct, id: string, props: EmailStackProps) {
    super(scope, id, props);
    const { config } = props;
    const root = config.settingsPath;
    this.settingsPath = root;
    this.vpcPlaced = config.vpc !== undefined;
    const T = config.smtpTimeoutSeconds;

    const parameterArn = (name: string) =>
      this.formatArn({
        service: "ssm",
        resource: "parameter",
        resourceName: name.slice(1),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });

    // --- Settings: the non-secret ones as String parameters; the password is only referenced.
    for (const [name, value] of Object.entries(config.emailSettings)) {
      // SSM cannot hold "": leaving the parameter out gives the default ("none" spells no security).
      if (value === "") continue;
      new ssm.StringParameter(this, `Setting${name}`, {
        parameterName: `${root}/EmailSettings/${name}`,
        stringValue: String(value),
        description: `EmailSettings.${name} (managed by the stack)`,
      });
    }
    if (config.securityAlertRecipients) {
      new ssm.StringParameter(this, "SecurityAlertRecipients", {
        parameterName: `${root}/SecurityAlerts/Recipients`,
        stringValue: config.securityAlertRecipients,
        description: "Comma-separated admin addresses for security bulletins",
      });
    }

    // --- Alarm topic
    const topic = config.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, "AlarmTopic", config.alarmTopicArn)
      : config.alarmEmail
        ? new sns.Topic(this, "AlarmTopic", { enforceSSL: true, displayName: "Mattermost email alarms" })
        : undefined;
    if (topic instanceof sns.Topic && config.alarmEmail) {
      topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (topic) a.addAlarmAction(new cwActions.SnsAction(topic));
      return a;
    };

    // --- Optional VPC placement
    const vpcConfig = config.vpc
      ? (() => {
          const v = config.vpc;
          const vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", {
            vpcId: v.vpcId,
            availabilityZones: v.availabilityZones ?? v.subnetIds.map((_, i) => `${this.region}-az${i}`),
          });
          return {
            vpc,
            vpcSubnets: {
              subnets: v.subnetIds.map((sid, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, sid)),
            },
            securityGroups: v.securityGroupIds.map((sg, i) =>
              ec2.SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, sg),
            ),
          };
        })()
      : {};

    // --- Functions
    const readSettings = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: "ReadEmailSettingsByPath",
          actions: ["ssm:GetParametersByPath"],
          resources: [parameterArn(`${root}/EmailSettings`)],
        }),
        new iam.PolicyStatement({
          sid: "ReadExtraSettings",
          actions: ["ssm:GetParameters"],
          resources: EXTRA_PARAMETERS.map((n) => parameterArn(`${root}/${n}`)),
        }),
        // The aws/ssm key's own policy lets SSM decrypt for the account's principals; a customer
        // managed key needs this, scoped to SSM and to the password parameter.
        ...(config.passwordKmsKeyArn
          ? [
              new iam.PolicyStatement({
                sid: "DecryptPasswordViaSsmOnly",
                actions: ["kms:Decrypt"],
                resources: [config.passwordKmsKeyArn],
                conditions: {
                  StringEquals: {
                    "kms:ViaService": `ssm.${this.region}.amazonaws.com`,
                    "kms:EncryptionContext:PARAMETER_ARN": parameterArn(`${root}/EmailSettings/SMTPPassword`),
                  },
                },
              }),
            ]
          : []),
      ],
    });

    // A hint, not a setting: cold starts connect to it while SSM is read (SSM still decides).
    const server = config.emailSettings.SMTPServer;
    const preconnect: Record<string, string> =
      typeof server === "string" && server !== ""
        ? { SMTP_PRECONNECT: `${server}:${config.emailSettings.SMTPPort ?? 10025}` }
        : {};

    const makeFunction = (
      name: FunctionName,
      options: {
        memorySize: number;
        timeout: Duration;
        environment?: Record<string, string>;
        extra?: iam.PolicyDocument;
      },
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        retention: config.logRetentionDays as logs.RetentionDays,
      });
      const role = new iam.Role(this, `${name}-role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        description: `Runs the ${name} function`,
        inlinePolicies: { settings: readSettings, ...(options.extra ? { own: options.extra } : {}) },
      });
      logGroup.grantWrite(role);
      if (config.vpc) {
        role.addToPolicy(
          new iam.PolicyStatement({
            sid: "VpcNetworkInterfaces",
            actions: [
              "ec2:CreateNetworkInterface",
              "ec2:DescribeNetworkInterfaces",
              "ec2:DeleteNetworkInterface",
              "ec2:AssignPrivateIpAddresses",
              "ec2:UnassignPrivateIpAddresses",
            ],
            resources: ["*"],
          }),
        );
      }
      return new nodejs.NodejsFunction(this, name, {
        entry: entry(name),
        handler: "handler",
        projectRoot,
        depsLockFilePath: fileURLToPath(new URL("../package-lock.json", import.meta.url)),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: options.memorySize,
        timeout: options.timeout,
        role,
        logGroup,
        bundling: bundlingFor(name),
        // Source maps ship in the bundle; NODE_OPTIONS=--enable-source-maps maps stack traces
        // at about 7 ms of every cold start (BENCHMARKS.md), so it is left to the operator.
        environment: {
          SETTINGS_PATH: root,
          ...options.environment,
        },
        ...vpcConfig,
      });
    };

    // A batch: open a session (T) and send each message over the pool (T each at worst), with room.
    const perBatch = Math.ceil(config.batchSize / config.notificationPoolSize);
    const sendTimeout = Duration.seconds(clamp(T * (perBatch + 2) + 10, 30, 900));
    const sendNotification = makeFunction("send-notification", {
      memorySize: 256,
      timeout: sendTimeout,
      // Only here: the alert check must make no call while alerts are off, and the connection
      // test measures a connection of its own.
      environment: { NOTIFICATION_POOL_SIZE: String(config.notificationPoolSize), ...preconnect },
    });

    const sentMarkers = [`${root}/SecurityAlerts/Sent/*`, `${root}/SecurityAlerts/Takeover/*`].map(
      parameterArn,
    );
    const alertCheck = makeFunction("security-alert-check", {
      memorySize: 256,
      timeout: Duration.seconds(clamp(T * 6 + 60, 60, 900)),
      environment: { SECURITY_FEED_URL: config.securityFeedUrl, APP_VERSION: config.appVersion },
      extra: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: "ClaimAndMarkBulletins",
            actions: ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
            resources: sentMarkers,
          }),
        ],
      }),
    });
    if (!config.appVersion) {
      Annotations.of(alertCheck).addWarning(
        "appVersion is not set in context: the security alert check will fail until it is (cdk deploy -c appVersion=10.5.1)",
      );
    }

    // API Gateway answers within 30 s: the check (two bounded operations) must fit.
    const connectionTest = makeFunction("connection-test", {
      memorySize: 256,
      timeout: Duration.seconds(29),
    });
    if (2 * T + 1 > 28) {
      Annotations.of(connectionTest).addWarning(
        `SMTPServerTimeout ${T} s: a connection test that waits for every stage may outlast the endpoint's 29 s limit`,
      );
    }

    this.functions = {
      "send-notification": sendNotification,
      "security-alert-check": alertCheck,
      "connection-test": connectionTest,
    };

    // --- Notification queue
    this.deadLetterQueue = new sqs.Queue(this, "NotificationDLQ", {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.queue = new sqs.Queue(this, "NotificationQueue", {
      // AWS's advice for Lambda event sources: six times the function timeout.
      visibilityTimeout: Duration.seconds(Math.min(sendTimeout.toSeconds() * 6, 43_200)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    sendNotification.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.batchSize,
        maxBatchingWindow: Duration.seconds(config.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    if (config.eventBridge) {
      const bus = config.eventBridge.busName
        ? events.EventBus.fromEventBusName(this, "Bus", config.eventBridge.busName)
        : undefined;
      new events.Rule(this, "NotificationRule", {
        ...(bus ? { eventBus: bus } : {}),
        eventPattern: config.eventBridge.pattern as events.EventPattern,
        targets: [new eventTargets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
        description: "Notification events to the notification queue",
      });
    }

    // --- Security alert schedule: retried, with its own failure destination
    const alertFailures = new sqs.Queue(this, "AlertFailures", {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.alertFailures = alertFailures;
    new lambda.EventInvokeConfig(this, "AlertInvokeConfig", {
      function: alertCheck,
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(alertFailures),
    });
    new scheduler.Schedule(this, "AlertSchedule", {
      schedule: scheduler.ScheduleExpression.expression(config.alertSchedule),
      description: "Checks the security bulletin feed",
      target: new LambdaInvoke(alertCheck, {
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: alertFailures,
      }),
    });

    // --- Connection test endpoint
    const accessLogs = new logs.LogGroup(this, "TestEndpointAccessLogs", {
      retention: config.logRetentionDays as logs.RetentionDays,
    });
    const api = new apigw.HttpApi(this, "TestApi", {
      description: "Mattermost email connection test",
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    const stage = new apigw.HttpStage(this, "TestApiStage", {
      httpApi: api,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: config.testEndpointRateLimit, burstLimit: config.testEndpointBurstLimit },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    api.addRoutes({
      path: "/email/test",
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration("ConnectionTest", connectionTest, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        timeout: Duration.seconds(29),
      }),
    });

    // --- Alarms
    alarm(
      "DeadLetterAlarm",
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: "Maximum",
      }),
      "Notifications in the dead-letter queue: they failed every retry (invalid bodies, rejected recipients, SMTP down). Inspect, fix, redrive.",
    );
    for (const [name, fn] of Object.entries(this.functions)) {
      alarm(
        `${name}-errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        `The ${name} function failed (settings unreadable or invalid, or an unexpected error): see its log group.`,
      );
    }
    alarm(
      "AlertScheduleFailedAlarm",
      alertFailures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: "Maximum",
      }),
      "The security alert check failed after its retries (feed unreachable, SMTP down, configuration): bulletins may be unsent.",
    );

    // --- Outputs
    new CfnOutput(this, "NotificationQueueUrl", { value: this.queue.queueUrl });
    new CfnOutput(this, "NotificationQueueArn", { value: this.queue.queueArn });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, "TestEndpointUrl", { value: `${stage.url}email/test` });
    new CfnOutput(this, "PasswordParameterName", { value: `${root}/EmailSettings/SMTPPassword` });
    if (topic) new CfnOutput(this, "AlarmTopicArn", { value: topic.topicArn });
  }
}
