/**
 * The fleet's connection leases in DynamoDB (moto_server's), as several containers use them:
 * each store below has a client of its own, as each container has.
 */
import { describe, expect, it } from "vitest";
import { dynamoConnectionLeases } from "../../../lib/aws-dynamodb/index.ts";
import { dynamoClient, sendScheduleTable } from "../../helpers/dynamodb.ts";

const NOW = 1_800_000_000_000;
const container = (tableName: string) => dynamoConnectionLeases({ tableName, client: dynamoClient() });

describe("the fleet's connection leases in DynamoDB", () => {
  it("reads an empty state before the first lease", async () => {
    const { tableName } = await sendScheduleTable();
    expect(await container(tableName).read()).toEqual({ holders: {}, version: 0 });
  });

  it("grants a lease on the version read, and refuses a second grant on the same version", async () => {
    const { tableName } = await sendScheduleTable();
    const a = container(tableName);
    const b = container(tableName);
    const request = { grantedMs: NOW, expiresMs: NOW + 30_000, version: 0, lapsed: [] };

    expect(await a.grant({ ...request, id: "a" })).toBe(true);
    // b read the state before a's grant: the last connection cannot be taken twice.
    expect(await b.grant({ ...request, id: "b" })).toBe(false);
    expect(await b.grant({ ...request, id: "b", version: 1 })).toBe(true);
    expect(await b.grant({ ...request, id: "c", version: 1 })).toBe(false);

    const state = await a.read();
    expect(state.version).toBe(2);
    expect(state.holders).toEqual({
      a: { grantedMs: NOW, expiresMs: NOW + 30_000, connected: false },
      b: { grantedMs: NOW, expiresMs: NOW + 30_000, connected: false },
    });
  });

  it("removes lapsed leases with a grant, marks and renews only a lease still held, and releases", async () => {
    const { tableName } = await sendScheduleTable();
    const store = container(tableName);
    await store.grant({ id: "dead", grantedMs: NOW, expiresMs: NOW + 1, version: 0, lapsed: [] });
    await store.grant({ id: "live", grantedMs: NOW, expiresMs: NOW + 30_000, version: 1, lapsed: [] });
    await store.grant({
      id: "new",
      grantedMs: NOW + 5,
      expiresMs: NOW + 30_005,
      version: 2,
      lapsed: ["dead"],
    });

    expect(Object.keys((await store.read()).holders).sort()).toEqual(["live", "new"]);
    expect(await store.renew("live", NOW + 60_000)).toBe(true);
    expect(await store.renew("dead", NOW + 60_000)).toBe(false);
    expect(await store.connected("live")).toBe(true);
    expect(await store.connected("dead")).toBe(false);
    expect((await store.read()).holders.live).toEqual({
      grantedMs: NOW,
      expiresMs: NOW + 60_000,
      connected: true,
    });
    expect(Object.keys((await store.read()).holders)).not.toContain("dead");

    await store.release("live");
    await store.release("live"); // twice: a session closed by its batch and its keeper
    expect(Object.keys((await store.read()).holders)).toEqual(["new"]);
  });

  it("keeps the highest count of an episode's refusals, and a later episode's whatever it is", async () => {
    const { tableName } = await sendScheduleTable();
    const a = container(tableName);
    const b = container(tableName);
    expect(await a.learnLimit({ connections: 3, atMs: NOW }, NOW - 2000)).toBe(true);
    expect(await b.learnLimit({ connections: 2, atMs: NOW + 500 }, NOW - 1500)).toBe(false);
    expect(await b.learnLimit({ connections: 4, atMs: NOW + 500 }, NOW - 1500)).toBe(true);
    expect((await a.read()).limit).toEqual({ connections: 4, atMs: NOW + 500 });

    expect(await a.learnLimit({ connections: 2, atMs: NOW + 5000 }, NOW + 3000)).toBe(true);
    expect((await a.read()).limit).toEqual({ connections: 2, atMs: NOW + 5000 });
    // A release before any grant (the map not made yet) is harmless.
    await expect(a.release("never")).resolves.toBeUndefined();
  });

  it("leaves out what is malformed in the item rather than trusting it", async () => {
    const { tableName } = await sendScheduleTable();
    await dynamoClient().call("PutItem", {
      TableName: tableName,
      Item: {
        id: { S: "connection-leases" },
        holders: {
          M: {
            ok: { M: { g: { N: "1" }, e: { N: "2" }, c: { N: "1" } } },
            bad: { M: { g: { S: "x" } } },
          },
        },
        limitConnections: { N: "0" },
        limitAtMs: { N: "5" },
        version: { N: "3" },
      },
    });
    expect(await container(tableName).read()).toEqual({
      holders: { ok: { grantedMs: 1, expiresMs: 2, connected: true } },
      version: 3,
    });
  });
});
