export {
  type DeliveryReport,
  deliverNotifications,
  messageIdFor,
  type NotificationRecord,
} from "./deliver.ts";
export { type ParsedNotification, parseNotificationBody } from "./parse.ts";
