/**
 * The fleet's connection leases (lib/notifications/connection-leases.ts) in the send schedule's
 * table: one item of its own, `connection-leases`, holding a map of leases (id → granted `g`,
 * lapsing `e`, epoch ms, and `c` once its connection is open), the learned limit
 * (`limitConnections`, `limitAtMs`) and a `version`. A grant is one UpdateItem conditioned on the
 * version read, so two containers cannot both take the last connection; marks, renewals and
 * releases touch only their own lease; a learning keeps the highest count of its episode. One
 * attempt a call and short deadlines, as the schedule (STORE_TIMEOUTS).
 */
import { AwsServiceError, type Env, type JsonClient } from "../aws/json-client.ts";
import type { ConnectionLeaseStore, LeaseState } from "../notifications/connection-leases.ts";
import { lazyStoreClient, SEND_SCHEDULE_KEY } from "./send-schedule.ts";

/** The leases' item, beside the schedule's in the same table. */
export const CONNECTION_LEASES_KEY = "connection-leases";

export interface DynamoConnectionLeasesOptions {
  tableName: string;
  /** The lite client; default one from the environment's credentials, one attempt, short deadlines. */
  client?: JsonClient;
}

type Attr = { N?: string; M?: Record<string, Attr> };
type Item = Record<string, Attr | undefined>;

const num = (n: number) => ({ N: String(Math.round(n)) });
const conditionFailed = (error: unknown) =>
  error instanceof AwsServiceError && error.name === "ConditionalCheckFailedException";

/** The item as the domain reads it; anything malformed in it is left out rather than trusted. */
export function leaseStateOf(item: Item | undefined): LeaseState {
  const n = (a: Attr | undefined) => {
    const v = Number(a?.N);
    return a?.N !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const holders: LeaseState["holders"] = {};
  for (const [id, lease] of Object.entries(item?.holders?.M ?? {})) {
    const grantedMs = n(lease.M?.g);
    const expiresMs = n(lease.M?.e);
    if (grantedMs !== undefined && expiresMs !== undefined) {
      holders[id] = { grantedMs, expiresMs, connected: n(lease.M?.c) === 1 };
    }
  }
  const connections = n(item?.limitConnections);
  const atMs = n(item?.limitAtMs);
  return {
    holders,
    ...(connections !== undefined && connections >= 1 && atMs !== undefined
      ? { limit: { connections, atMs } }
      : {}),
    version: n(item?.version) ?? 0,
  };
}

export function dynamoConnectionLeases(
  options: DynamoConnectionLeasesOptions,
  env: Env = process.env,
): ConnectionLeaseStore {
  const client = lazyStoreClient(options.client, env, "The connection leases");
  const item = {
    TableName: options.tableName,
    Key: { [SEND_SCHEDULE_KEY.attribute]: { S: CONNECTION_LEASES_KEY } },
  };
  /** An update whose condition may fail: false then. */
  const update = async (input: Record<string, unknown>) => {
    try {
      await client().call("UpdateItem", { ...item, ...input });
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  };
  /** An update of one lease's field, if the lease is still there. */
  const setOnLease = (id: string, field: string, value: number) =>
    update({
      UpdateExpression: `SET holders.#id.${field} = :v`,
      ConditionExpression: "attribute_exists(holders.#id)",
      ExpressionAttributeNames: { "#id": id },
      ExpressionAttributeValues: { ":v": num(value) },
    });

  return {
    async read() {
      const out = await client().call<{ Item?: Item }>("GetItem", { ...item, ConsistentRead: true });
      return leaseStateOf(out.Item);
    },
    async grant({ id, grantedMs, expiresMs, version, lapsed }) {
      const lease = { M: { g: num(grantedMs), e: num(expiresMs) } };
      if (version === 0) {
        // The first grant ever makes the map; a version means the map exists.
        return update({
          UpdateExpression: "SET holders = :holders, version = :one",
          ConditionExpression: "attribute_not_exists(version)",
          ExpressionAttributeValues: { ":holders": { M: { [id]: lease } }, ":one": num(1) },
        });
      }
      const names: Record<string, string> = { "#id": id };
      lapsed.forEach((l, i) => {
        names[`#l${i}`] = l;
      });
      const remove = lapsed.length ? ` REMOVE ${lapsed.map((_, i) => `holders.#l${i}`).join(", ")}` : "";
      return update({
        UpdateExpression: `SET holders.#id = :lease, version = :next${remove}`,
        ConditionExpression: "version = :version",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ":lease": lease, ":next": num(version + 1), ":version": num(version) },
      });
    },
    connected: (id) => setOnLease(id, "c", 1),
    renew: (id, expiresMs) => setOnLease(id, "e", expiresMs),
    async release(id) {
      await update({
        UpdateExpression: "REMOVE holders.#id",
        ConditionExpression: "attribute_exists(holders)",
        ExpressionAttributeNames: { "#id": id },
      });
    },
    learnLimit({ connections, atMs }, episodeStartMs) {
      return update({
        UpdateExpression: "SET limitConnections = :c, limitAtMs = :t",
        // A new episode, or a higher count in this one.
        ConditionExpression:
          "attribute_not_exists(limitAtMs) OR limitAtMs < :episode OR limitConnections < :c",
        ExpressionAttributeValues: {
          ":c": num(connections),
          ":t": num(atMs),
          ":episode": num(episodeStartMs),
        },
      });
    },
  };
}
