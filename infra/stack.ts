/**
 * The whole product on AWS, composed from the parts of the architecture (infra/constructs/):
 * the settings in SSM, three functions, the notification queue with its dead-letter queue, the
 * fleet's send schedule (slots when the provider limits a rate, the learned rate otherwise), the
 * security-alert schedule, the IAM-authorised connection-test endpoint, the dashboard, and the
 * alarms. One file of about 250 lines: the composition, and the three functions' own settings
 * beside it (emailFunctions), which the parts are given.
 *
 * Logical ids: the parts add their resources to this stack directly (each takes the stack as its
 * `scope`), under the ids they had when the stack was one constructor, rather than nesting them
 * under a construct of their own. A construct's id would enter every child's path and so every
 * logical id, and CloudFormation would replace what it no longer recognises: new, empty queues
 * (losing queued and dead-lettered notifications), parameters created under names that still
 * exist (a failed update), new log groups, a new endpoint URL, a topic whose email subscription
 * must be confirmed again. Keeping the ids so needs no overrideLogicalId: every logical id is the
 * one the single constructor produced. The parts are plain classes rather than Construct
 * subclasses for the same reason: a construct node owning none of its resources would mislead
 * `Tags.of` and `Validations.of`.
 */
import { Annotations, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { FunctionName } from "../functions/create-function.ts";
import type { FunctionEnvironment } from "../functions/environment.ts";
import { DEFAULT_SMTP_PORT, TRANSPORT_SETTINGS_VARIABLE } from "../lib/settings/index.ts";
import type { DeploymentConfig } from "./config.ts";
import { Alarms } from "./constructs/alarms.ts";
import { AlertSchedule } from "./constructs/alert-schedule.ts";
import { Dashboard } from "./constructs/dashboard.ts";
import { EmailFunction, importVpcPlacement } from "./constructs/email-function.ts";
import { NotificationQueue } from "./constructs/notification-queue.ts";
import { SendSchedule } from "./constructs/send-schedule.ts";
import { SesSending } from "./constructs/ses-sending.ts";
import { SettingsParameters } from "./constructs/settings-parameters.ts";
import { TestEndpoint } from "./constructs/test-endpoint.ts";
import { STACK_OUTPUTS } from "./outputs.ts";
import {
  type DerivedSendLimits,
  deriveSendLimits,
  formatRate,
  resolveProviderLimits,
} from "./provider-limits.ts";
import {
  alertCheckTimeoutSeconds,
  connectionTestMayOutlast,
  connectionTestTimeoutSeconds,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  pacedBatchOutlastsLambda,
  sendNotificationTimeoutSeconds,
} from "./sizing.ts";

export { FUNCTION_NAMES, type FunctionName } from "../functions/create-function.ts";

/** A product function as the stack exposes it (`node.defaultChild` is its CfnFunction). */
export type EmailLambda = EmailFunction["fn"];

export interface EmailStackProps extends StackProps {
  /** The validated context (infra/config.ts). */
  config: DeploymentConfig;
}

export class EmailStack extends Stack {
  readonly functions: Record<FunctionName, EmailLambda>;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Failed security-alert invocations and schedule deliveries land here. */
  readonly alertFailures: sqs.Queue;
  readonly settingsPath: string;
  /** True when the functions run in a VPC (their roles then manage network interfaces). */
  readonly vpcPlaced: boolean;
  /** What the provider's limits gave send-notification: containers, pool, rate per container. */
  readonly sendLimits: DerivedSendLimits;
  /** The fleet's send schedule, made when the provider limits a rate. */
  readonly sendSchedule: SendSchedule;
  /** What the roles may do with SES, when mail leaves through its API (Transport ses). */
  readonly sesSending?: SesSending;

  constructor(scope: Construct, id: string, props: EmailStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const settings = new SettingsParameters(this, {
      settingsPath: config.settingsPath,
      emailSettings: config.emailSettings,
      transportSettings: config.emailTransportSettings,
      securityAlertRecipients: config.securityAlertRecipients,
      passwordKmsKeyArn: config.passwordKmsKeyArn,
    });
    this.settingsPath = settings.settingsPath;
    this.vpcPlaced = config.vpc !== undefined;

    // The provider's limits (a preset, explicit values over it) shared out over the containers.
    const limits = resolveProviderLimits(config);
    this.sendLimits = deriveSendLimits(limits, config.notificationPoolSize);

    this.functions = emailFunctions(this, config, settings, this.sendLimits);
    if (config.transport === "ses" && config.sesIdentity) {
      const configurationSet = config.emailTransportSettings?.SESConfigurationSet;
      this.sesSending = new SesSending(this, {
        senders: [this.functions["send-notification"], this.functions["security-alert-check"]],
        tester: this.functions["connection-test"],
        identity: config.sesIdentity,
        ...(typeof configurationSet === "string" && configurationSet ? { configurationSet } : {}),
      });
    }
    // Shares alone keep the fleet under a configured rate; the schedule also keeps its sends
    // apart. Without a rate it holds the rate the fleet learns from the provider's throttles, and
    // without a connection limit the fleet's count of connections and the limit it learns.
    this.sendSchedule = new SendSchedule(this, {
      sender: this.functions["send-notification"],
      ...(limits.maxSendRate !== undefined ? { fleetRatePerSecond: limits.maxSendRate } : {}),
      ...(limits.maxConnections !== undefined ? { fleetMaxConnections: limits.maxConnections } : {}),
    });

    const notifications = new NotificationQueue(this, {
      consumer: this.functions["send-notification"],
      batchSize: config.batchSize,
      maxBatchingWindow: Duration.seconds(config.maxBatchingWindowSeconds),
      maxReceiveCount: config.maxReceiveCount,
      maxConcurrency: this.sendLimits.maxConcurrency,
      eventBridge: config.eventBridge,
    });
    this.queue = notifications.queue;
    this.deadLetterQueue = notifications.deadLetterQueue;

    const alerts = new AlertSchedule(this, {
      check: this.functions["security-alert-check"],
      schedule: config.alertSchedule,
    });
    this.alertFailures = alerts.failures;

    const endpoint = new TestEndpoint(this, {
      handler: this.functions["connection-test"],
      rateLimit: config.testEndpointRateLimit,
      burstLimit: config.testEndpointBurstLimit,
      logRetention,
    });

    new Dashboard(this, {
      functions: this.functions,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
    });

    const alarms = new Alarms(this, {
      deadLetterQueue: this.deadLetterQueue,
      functions: this.functions,
      alertFailures: this.alertFailures,
      queue: this.queue,
      lateAfterMinutes: config.lateAfterMinutes,
      topicArn: config.alarmTopicArn,
      email: config.alarmEmail,
    });

    new CfnOutput(this, STACK_OUTPUTS.notificationQueueUrl, { value: this.queue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.notificationQueueArn, { value: this.queue.queueArn });
    new CfnOutput(this, STACK_OUTPUTS.deadLetterQueueUrl, { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.testEndpointUrl, { value: endpoint.url });
    new CfnOutput(this, STACK_OUTPUTS.passwordParameterName, { value: settings.passwordParameterName });
    if (alarms.topic) new CfnOutput(this, STACK_OUTPUTS.alarmTopicArn, { value: alarms.topic.topicArn });
  }
}

/** The three functions: what each is given beyond what they share (EmailFunction). */
function emailFunctions(
  stack: Stack,
  config: DeploymentConfig,
  settings: SettingsParameters,
  sendLimits: DerivedSendLimits,
): Record<FunctionName, EmailLambda> {
  const T = config.smtpTimeoutSeconds;
  // Only when the context uses the product's own settings: otherwise the template is unchanged.
  const transportEnv: FunctionEnvironment = settings.readsTransportSettings
    ? { [TRANSPORT_SETTINGS_VARIABLE]: "true" }
    : {};
  const shared = {
    settingsPath: settings.settingsPath,
    settingsReadPolicy: settings.readPolicy,
    logRetention: config.logRetentionDays as logs.RetentionDays,
    vpcPlacement: config.vpc ? importVpcPlacement(stack, config.vpc) : undefined,
  };

  // A hint, not a setting: cold starts connect to it while SSM is read (SSM still decides).
  const server = config.emailSettings.SMTPServer;
  const preconnect: FunctionEnvironment =
    config.transport === "smtp" && typeof server === "string" && server !== ""
      ? { SMTP_PRECONNECT: `${server}:${config.emailSettings.SMTPPort ?? DEFAULT_SMTP_PORT}` }
      : {};
  const { poolSize, perContainerRate } = sendLimits;
  const sendNotification = new EmailFunction(stack, {
    ...shared,
    name: "send-notification",
    // The derived pool and rate, not the context's bound: a smaller pool, or a paced batch, takes longer.
    timeout: Duration.seconds(
      sendNotificationTimeoutSeconds(T, config.batchSize, poolSize, perContainerRate),
    ),
    // Only here: the alert check must make no call while alerts are off, and the connection
    // test measures a connection of its own.
    environment: {
      NOTIFICATION_POOL_SIZE: String(poolSize),
      ...(perContainerRate !== undefined ? { SEND_RATE_PER_SECOND: formatRate(perContainerRate) } : {}),
      ...preconnect,
      ...transportEnv,
    },
  });
  if (pacedBatchOutlastsLambda(T, config.batchSize, perContainerRate)) {
    Annotations.of(sendNotification.fn).addWarning(
      `A batch of ${config.batchSize} at ${formatRate(perContainerRate ?? 0)} messages a second per container cannot be sent within Lambda's ${LAMBDA_MAX_TIMEOUT_SECONDS} s: what is left is retried, spending receives; lower batchSize`,
    );
  }

  const alertCheck = new EmailFunction(stack, {
    ...shared,
    name: "security-alert-check",
    timeout: Duration.seconds(alertCheckTimeoutSeconds(T)),
    environment: {
      SECURITY_FEED_URL: config.securityFeedUrl,
      APP_VERSION: config.appVersion,
      ...transportEnv,
    },
    ownPolicy: settings.sentMarkerPolicy,
  });
  if (!config.appVersion) {
    Annotations.of(alertCheck.fn).addWarning(
      "appVersion is not set in context: the security alert check will fail until it is (cdk deploy -c appVersion=10.5.1)",
    );
  }

  const connectionTest = new EmailFunction(stack, {
    ...shared,
    name: "connection-test",
    timeout: Duration.seconds(connectionTestTimeoutSeconds()),
    environment: {
      ...(config.testEndpointAllowedHosts
        ? { TEST_ALLOWED_SMTP_HOSTS: config.testEndpointAllowedHosts.join(",") }
        : {}),
      ...(config.testEndpointAllowedPorts
        ? { TEST_ALLOWED_PORTS: config.testEndpointAllowedPorts.join(",") }
        : {}),
      ...transportEnv,
    },
  });
  if (connectionTestMayOutlast(T)) {
    Annotations.of(connectionTest.fn).addWarning(
      `SMTPServerTimeout ${T} s: a connection test that waits for every stage may outlast the endpoint's ${connectionTestTimeoutSeconds()} s limit`,
    );
  }

  return {
    "send-notification": sendNotification.fn,
    "security-alert-check": alertCheck.fn,
    "connection-test": connectionTest.fn,
  };
}
