export { minimumSurvivalSeconds, RETRY_POLICY, retryDelaySeconds } from "./backoff.ts";
export {
  type BatchMailerHooks,
  type DeliveryReport,
  deliverNotifications,
  messageIdFor,
  type NotificationRecord,
} from "./deliver.ts";
export {
  createFleetPace,
  FLEET_SPACING_MARGIN,
  type FleetPaceOptions,
  type FleetScheduleStore,
  type Reservation,
} from "./fleet-schedule.ts";
export { type Outcome, outcomeOf } from "./outcome.ts";
export { type ParsedNotification, parseNotificationBody } from "./parse.ts";
export type { DeadLetter, QueueControl, RetryLater } from "./queue-control.ts";
export { createSendRate, type SendRate, type SendRateOptions, type ThrottleReason } from "./send-rate.ts";
export { parseTraceLine, recipientKey, serverOf, type TraceLine } from "./trace.ts";
