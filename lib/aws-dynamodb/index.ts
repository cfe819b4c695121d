export {
  CONNECTION_LEASES_KEY,
  type DynamoConnectionLeasesOptions,
  dynamoConnectionLeases,
  leaseStateOf,
} from "./connection-leases.ts";
export { type DynamoLearnedRateOptions, dynamoLearnedRate, LEARNED_RATE_KEY } from "./learned-rate.ts";
export {
  DYNAMODB_SERVICE,
  type DynamoSendScheduleOptions,
  dynamoSendSchedule,
  SEND_SCHEDULE_KEY,
  STORE_TIMEOUTS,
  sendScheduleTableInput,
} from "./send-schedule.ts";
