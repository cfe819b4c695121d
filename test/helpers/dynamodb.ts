/** The fleet's send-schedule table in the run's moto_server, as the stack makes it. */
import { inject } from "vitest";
import { type JsonClient, liteJsonClient } from "../../lib/aws/json-client.ts";
import {
  DYNAMODB_SERVICE,
  dynamoSendSchedule,
  sendScheduleTableInput,
} from "../../lib/aws-dynamodb/index.ts";

let n = 0;

export function dynamoEnv() {
  return {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_DYNAMODB: inject("motoEndpoint"),
  };
}

/** A client of its own: each is one container's. */
export function dynamoClient(): JsonClient {
  const client = liteJsonClient(DYNAMODB_SERVICE, dynamoEnv(), { maxAttempts: 1 });
  if (!client) throw new Error("no DynamoDB client");
  return client;
}

export async function sendScheduleTable() {
  const tableName = `schedule-${process.pid}-${Date.now()}-${++n}`;
  const client = dynamoClient();
  await client.call("CreateTable", sendScheduleTableInput(tableName));
  return {
    tableName,
    /** The schedule's next free slot as stored, or undefined before the first reservation. */
    nextSlot: () => dynamoSendSchedule({ tableName, client }).nextSlot(),
    /** What a function needs to reach it. */
    env: { ...dynamoEnv(), SEND_SCHEDULE_TABLE: tableName },
  };
}
