export {
  DYNAMODB_SERVICE,
  type DynamoSendScheduleOptions,
  dynamoSendSchedule,
  SEND_SCHEDULE_KEY,
  sendScheduleTableInput,
} from "./send-schedule.ts";
