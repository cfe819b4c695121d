/**
 * The product's metrics, by name: one home for the functions that publish them (EMF lines), the
 * stack's dashboard and alarms (infra), and `mm-email status`, which reads the last hour of them.
 * Every metric is published under the function's name alone (one dimension set: each custom
 * metric costs $0.30 a month, and a second set would double them); the transport rides along in
 * the line as a property, for CloudWatch Logs Insights, not as a dimension.
 */
export const METRICS_NAMESPACE = "MattermostEmail";

export const METRIC_DIMENSIONS = {
  /** The function's physical name (AWS_LAMBDA_FUNCTION_NAME): one stack's metrics apart from another's. */
  function: "Function",
  /** smtp or ses: a property of the line, not a dimension. */
  transport: "Transport",
} as const;

/** The dimension sets each metric is published under. */
export const METRIC_DIMENSION_SETS = [[METRIC_DIMENSIONS.function]] as const;

export const METRICS = {
  /** Notifications the server accepted (send-notification). */
  sent: "NotificationsSent",
  /** Notifications reported failed to SQS, to be received again (the deferred ones among them). */
  failed: "NotificationsFailed",
  /** Notifications backed off to come back later, by why. */
  deferred: {
    /** A rate or connection limit (454, 421, SES's throttling), or a fleet paused by one. */
    throttle: "DeferredThrottle",
    /** A spent daily quota. */
    quota: "DeferredQuota",
    /** A transient failure: a 4xx, a timeout, a reset, a send there was no time to start. */
    connection: "DeferredConnection",
    /** Refused because of the settings: relay, sender, sign-in, policy. The operator must act. */
    settings: "DeferredSettings",
  },
  /** Moved to the dead-letter queue, by why. */
  deadLettered: {
    /** The body is not a notification. */
    invalid: "DeadLetteredInvalid",
    /** The recipient or the content refused for good, or a message that cannot be composed. */
    refused: "DeadLetteredRefused",
  },
  /** From the record's SentTimestamp to the server's acceptance, ms: what users feel. */
  eventToAccepted: "EventToAcceptedMs",
  /** A new SMTP session's opening: connect, greeting, TLS, sign-in, ms. */
  sessionSetup: "SessionSetupMs",
  /** One message's transaction (MAIL FROM to the final reply; SES's API call), ms. */
  sendTime: "SendTimeMs",
  /** Security bulletins mailed (security-alert-check). */
  bulletinsSent: "SecurityBulletinsSent",
  /** Connection tests run (connection-test), passed or not. */
  connectionTests: "ConnectionTestsRun",
} as const;
