export {
  DEAD_LETTER_ATTRIBUTES,
  DEAD_LETTER_ATTRIBUTES_MAX_BYTES,
  DEAD_LETTER_MAX_BYTES,
  deadLetterMessage,
  type MessageToSend,
  NOTIFICATION_MAX_BYTES,
  type SqsQueueControlOptions,
  sqsQueueControl,
} from "./queue-control.ts";
