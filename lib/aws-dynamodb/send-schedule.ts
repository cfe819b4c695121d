/**
 * The fleet's send schedule (lib/notifications/fleet-schedule.ts) in a DynamoDB table: one item,
 * whose `nextSlot` is the next free slot in milliseconds since the epoch. A reservation is one
 * conditional UpdateItem in the common case: "add one interval, if the schedule is ahead of now
 * and no further than the caller may wait" while the fleet is busy, "set it to now plus one
 * interval, if it is behind now" after a quiet moment (a slot in the past is not saved up: the
 * provider's bucket would not have saved it either). When both conditions fail, a consistent read
 * tells a paused fleet from a race with another container, which is tried again, and from a
 * corrupt slot (later than any container can have written: a clock far ahead, a bad write), which
 * is overwritten on condition that it is still the value read, taking the present.
 *
 * It speaks the JSON protocol through the lite client (lib/aws/json-client.ts), so a cold start
 * loads none of the AWS SDK. Each request gets one attempt and a short deadline (STORE_TIMEOUTS):
 * the schedule is waited for on a ready SMTP session, and a store that does not answer at once is
 * better left alone (the pace then goes on without it) than waited for.
 */
import { AwsServiceError, type Env, type JsonClient, liteJsonClient } from "../aws/json-client.ts";
import type { FleetScheduleStore, Reservation } from "../notifications/fleet-schedule.ts";

/** How the lite client reaches DynamoDB (JSON 1.0). */
export const DYNAMODB_SERVICE = {
  name: "dynamodb",
  targetPrefix: "DynamoDB_20120810",
  jsonVersion: "1.0",
} as const;

/** The table's partition key, and the one item's key in it. */
export const SEND_SCHEDULE_KEY = { attribute: "id", value: "notifications" } as const;

/**
 * The table as the store expects it, as a CreateTable input: for the load test and the tests
 * (moto_server); the stack makes the same table with CDK (infra/constructs/send-schedule.ts).
 */
export function sendScheduleTableInput(tableName: string) {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: SEND_SCHEDULE_KEY.attribute, AttributeType: "S" }],
    KeySchema: [{ AttributeName: SEND_SCHEDULE_KEY.attribute, KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  };
}

/** Rounds of (update, update, read) before a reservation gives up: each lost round is a race won by another. */
const ROUNDS = 4;

/**
 * Each request's deadlines. DynamoDB in the function's region answers in single-digit
 * milliseconds, and a new connection (TCP and TLS) takes tens: 500 ms to connect and a second in
 * all are a store that is not answering. The pace bounds a whole operation the same way
 * (STORE_CALL_TIMEOUT_MS in fleet-schedule.ts); these make sure no request lingers after it.
 */
export const STORE_TIMEOUTS = { connectTimeoutMs: 500, requestTimeoutMs: 1_000 } as const;

export interface DynamoSendScheduleOptions {
  tableName: string;
  /** The lite client; default one from the environment's credentials. */
  client?: JsonClient;
}

/**
 * The table's client, made on first use (one attempt a call, STORE_TIMEOUTS), so a missing
 * credential fails a call (the caller then goes on without the store), not the container.
 * `given`: a client of the caller's (the tests'). `what` names the store in the error.
 */
export function lazyStoreClient(given: JsonClient | undefined, env: Env, what: string): () => JsonClient {
  let made = given;
  return () => {
    made ??= liteJsonClient(DYNAMODB_SERVICE, env, { maxAttempts: 1, ...STORE_TIMEOUTS });
    if (!made) throw new Error(`${what} needs credentials and a region in the environment`);
    return made;
  };
}

const number = (n: number) => ({ N: String(Math.round(n)) });
const conditionFailed = (error: unknown) =>
  error instanceof AwsServiceError && error.name === "ConditionalCheckFailedException";

export function dynamoSendSchedule(
  options: DynamoSendScheduleOptions,
  env: Env = process.env,
): FleetScheduleStore {
  // One attempt a call: an UpdateItem that timed out may have been applied, and sending it again
  // would skip a slot; a failed call leaves the container to pace itself for a while
  // (fleet-schedule.ts). Short deadlines: a send waits for this call on a ready SMTP session.
  const made = lazyStoreClient(options.client, env, "The send schedule");
  const client: JsonClient = { call: (operation, input) => made().call(operation, input) };
  const key = { [SEND_SCHEDULE_KEY.attribute]: { S: SEND_SCHEDULE_KEY.value } };
  const item = { TableName: options.tableName, Key: key, ExpressionAttributeNames: { "#next": "nextSlot" } };
  /** Which form to try first: the one that worked last time (a busy fleet stays busy). */
  let busy = false;

  /** The update's new nextSlot, or undefined when its condition failed. */
  const update = async (expression: string, condition: string, values: Record<string, unknown>) => {
    try {
      const out = await client.call<{ Attributes?: { nextSlot?: { N?: string } } }>("UpdateItem", {
        ...item,
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
        ReturnValues: "UPDATED_NEW",
      });
      return Number(out.Attributes?.nextSlot?.N);
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  };

  const ahead = async (
    nowMs: number,
    intervalMs: number,
    latestMs: number,
  ): Promise<Reservation | undefined> => {
    const next = await update("SET #next = #next + :interval", "#next > :now AND #next <= :latest", {
      ":interval": number(intervalMs),
      ":now": number(nowMs),
      ":latest": number(latestMs),
    });
    return next === undefined ? undefined : { slotMs: next - Math.round(intervalMs) };
  };
  const behind = async (nowMs: number, intervalMs: number): Promise<Reservation | undefined> => {
    const next = await update("SET #next = :next", "attribute_not_exists(#next) OR #next <= :now", {
      ":next": number(nowMs + intervalMs),
      ":now": number(nowMs),
    });
    return next === undefined ? undefined : { slotMs: Math.round(nowMs) };
  };

  /** The next free slot as stored (its number's text, to compare it exactly), or undefined. */
  const readRaw = async () => {
    const out = await client.call<{ Item?: { nextSlot?: { N?: string } } }>("GetItem", {
      TableName: options.tableName,
      Key: key,
      ConsistentRead: true,
    });
    return out.Item?.nextSlot?.N;
  };
  const read = async () => {
    const raw = await readRaw();
    return raw === undefined ? undefined : Number(raw);
  };
  /** Overwrites a corrupt next free slot, if it is still the one read, taking the present. */
  const overwrite = async (raw: string, nowMs: number, intervalMs: number) => {
    const next = await update("SET #next = :next", "#next = :corrupt", {
      ":next": number(nowMs + intervalMs),
      ":corrupt": { N: raw },
    });
    return next === undefined ? undefined : { slotMs: Math.round(nowMs), overwroteMs: Number(raw) };
  };

  return {
    nextSlot: read,
    async reserve({ nowMs, intervalMs, latestMs, corruptAfterMs }) {
      for (let round = 0; round < ROUNDS; round++) {
        for (const whenBusy of busy ? [true, false] : [false, true]) {
          const got = whenBusy ? await ahead(nowMs, intervalMs, latestMs) : await behind(nowMs, intervalMs);
          if (got) {
            busy = whenBusy;
            return got;
          }
        }
        const raw = await readRaw();
        const next = raw === undefined ? undefined : Number(raw);
        if (raw !== undefined && corruptAfterMs !== undefined && Number(raw) > corruptAfterMs) {
          const got = await overwrite(raw, nowMs, intervalMs);
          if (got) return got;
          continue; // changed since it was read: another container's write, or its repair
        }
        if (next !== undefined && next > latestMs) return { pausedUntilMs: next };
      }
      throw new Error(`The send schedule changed under every one of ${ROUNDS} attempts to reserve a slot`);
    },
    async pauseUntil(untilMs, { corruptAfterMs } = {}) {
      // Over a corrupt slot too: the fleet pauses for this throttle, not until the corrupt time.
      const corrupt = corruptAfterMs === undefined ? "" : " OR #next > :corrupt";
      await update("SET #next = :until", `attribute_not_exists(#next) OR #next < :until${corrupt}`, {
        ":until": number(untilMs),
        ...(corruptAfterMs === undefined ? {} : { ":corrupt": number(corruptAfterMs) }),
      });
    },
  };
}
