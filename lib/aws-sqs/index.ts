export { DEAD_LETTER_ATTRIBUTES, type SqsQueueControlOptions, sqsQueueControl } from "./queue-control.ts";
