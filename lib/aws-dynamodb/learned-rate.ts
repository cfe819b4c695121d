/**
 * The fleet's learned share (lib/notifications/learned-rate.ts) in the send schedule's table: an
 * item of its own beside the schedule's, `perSecond` and `atMs`. A write lands only when it is
 * newer than the one stored (one conditional UpdateItem), so the fleet keeps the latest learning.
 * Read without a consistent read: a share a second old is as good as the newest.
 */
import { AwsServiceError, type Env, type JsonClient } from "../aws/json-client.ts";
import type { LearnedRateStore } from "../notifications/learned-rate.ts";
import { lazyStoreClient, SEND_SCHEDULE_KEY } from "./send-schedule.ts";

/** The learned share's item, beside the schedule's in the same table. */
export const LEARNED_RATE_KEY = "learned-rate";

export interface DynamoLearnedRateOptions {
  tableName: string;
  /** The lite client; default one from the environment's credentials, one attempt, short deadlines. */
  client?: JsonClient;
}

export function dynamoLearnedRate(
  options: DynamoLearnedRateOptions,
  env: Env = process.env,
): LearnedRateStore {
  const client = lazyStoreClient(options.client, env, "The learned rate");
  const Key = { [SEND_SCHEDULE_KEY.attribute]: { S: LEARNED_RATE_KEY } };
  return {
    async read() {
      const out = await client().call<{ Item?: { perSecond?: { N?: string }; atMs?: { N?: string } } }>(
        "GetItem",
        { TableName: options.tableName, Key },
      );
      const perSecond = Number(out.Item?.perSecond?.N);
      const atMs = Number(out.Item?.atMs?.N);
      return Number.isFinite(perSecond) && perSecond > 0 && Number.isFinite(atMs)
        ? { perSecond, atMs }
        : undefined;
    },
    async write({ perSecond, atMs }) {
      try {
        await client().call("UpdateItem", {
          TableName: options.tableName,
          Key,
          UpdateExpression: "SET perSecond = :rate, atMs = :at",
          ConditionExpression: "attribute_not_exists(atMs) OR atMs < :at",
          ExpressionAttributeValues: {
            ":rate": { N: String(perSecond) },
            ":at": { N: String(Math.round(atMs)) },
          },
        });
      } catch (error) {
        // A newer learning is already there: the fleet keeps that one.
        if (error instanceof AwsServiceError && error.name === "ConditionalCheckFailedException") return;
        throw error;
      }
    },
  };
}
