export {
  minimumQuotaSurvivalSeconds,
  minimumSurvivalSeconds,
  QUOTA_RETRY,
  quotaDelaySeconds,
  RETRY_POLICY,
  retryDelaySeconds,
  THROTTLE_RETRY_WAIT,
  throttleRetryWaitMs,
} from "./backoff.ts";
export { AFTER_SEND_RESERVE_MS, batchSmtpTimeoutSeconds, sendReserveMs } from "./batch-time.ts";
export {
  CONNECTION_LIMIT_MESSAGE,
  type ConnectionLeaseStore,
  type ConnectionLeasesOptions,
  createConnectionLeases,
  LEASING,
  type LeaseState,
  limitAt,
} from "./connection-leases.ts";
export {
  type BatchMailerHooks,
  type DeliverOptions,
  type DeliveryReport,
  deliverNotifications,
  messageIdFor,
  type NotificationRecord,
} from "./deliver.ts";
export {
  ARRIVAL_JITTER_MS,
  createFleetPace,
  FLEET_SPACING_MARGIN,
  type FleetPaceOptions,
  type FleetScheduleStore,
  fleetSlotIntervalMs,
  type Reservation,
} from "./fleet-schedule.ts";
export { type InFlight, type InFlightOptions, trackInFlight, VISIBILITY_HOLD } from "./in-flight.ts";
export {
  createLearningRate,
  LEARNED_RATE_MESSAGE,
  LEARNING,
  type LearnedRateStore,
  type LearningRateOptions,
} from "./learned-rate.ts";
export { deliveryMetrics } from "./metrics.ts";
export { type Outcome, outcomeOf } from "./outcome.ts";
export { type ParsedNotification, parseNotificationBody } from "./parse.ts";
export type { DeadLetter, QueueControl, RetryLater } from "./queue-control.ts";
export {
  createSendRate,
  type SendRate,
  type SendRateOptions,
  shareBurst,
  type ThrottleReason,
} from "./send-rate.ts";
export {
  parseTraceLine,
  recipientKey,
  SETTINGS_REFUSAL_FIELD,
  serverOf,
  type TraceLine,
} from "./trace.ts";
