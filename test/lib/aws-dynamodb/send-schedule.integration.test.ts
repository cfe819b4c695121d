/**
 * The fleet's send schedule in DynamoDB (moto_server's), as several containers use it: each
 * store below has a client of its own, as each container has.
 */
import { describe, expect, it } from "vitest";
import { dynamoSendSchedule } from "../../../lib/aws-dynamodb/index.ts";
import { dynamoClient, sendScheduleTable } from "../../helpers/dynamodb.ts";

const container = (tableName: string) => dynamoSendSchedule({ tableName, client: dynamoClient() });
const NOW = 1_800_000_000_000;

describe("the fleet's send schedule in DynamoDB", () => {
  it("gives the first send the present, and the next ones one interval apart", async () => {
    const table = await sendScheduleTable();
    const store = container(table.tableName);
    const request = { nowMs: NOW, intervalMs: 1050, latestMs: NOW + 10_000 };

    expect(await store.reserve(request)).toEqual({ slotMs: NOW });
    expect(await store.reserve(request)).toEqual({ slotMs: NOW + 1050 });
    expect(await store.reserve({ ...request, nowMs: NOW + 100 })).toEqual({ slotMs: NOW + 2100 });
    expect(await table.nextSlot()).toBe(NOW + 3150);
  });

  it("saves up no slots over a quiet moment: after it, the next send gets the present", async () => {
    const table = await sendScheduleTable();
    const store = container(table.tableName);
    await store.reserve({ nowMs: NOW, intervalMs: 1000, latestMs: NOW + 10_000 });

    const later = NOW + 60_000;
    expect(await store.reserve({ nowMs: later, intervalMs: 1000, latestMs: later + 10_000 })).toEqual({
      slotMs: later,
    });
    expect(await store.reserve({ nowMs: later, intervalMs: 1000, latestMs: later + 10_000 })).toEqual({
      slotMs: later + 1000,
    });
  });

  it("never gives two containers the same slot: 40 reservations from 4 containers at once", async () => {
    const table = await sendScheduleTable();
    const containers = [0, 1, 2, 3].map(() => container(table.tableName));

    const got = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        containers[i % 4]?.reserve({ nowMs: NOW, intervalMs: 500, latestMs: NOW + 60_000 }),
      ),
    );

    const slots = got.map((r) => (r && "slotMs" in r ? r.slotMs : Number.NaN)).sort((a, b) => a - b);
    expect(slots).toEqual(Array.from({ length: 40 }, (_, i) => NOW + i * 500));
  });

  it("pauses the fleet: a send that would wait past its limit takes nothing and learns until when", async () => {
    const table = await sendScheduleTable();
    const store = container(table.tableName);
    await store.reserve({ nowMs: NOW, intervalMs: 1000, latestMs: NOW + 10_000 });

    await container(table.tableName).pauseUntil(NOW + 20_000);

    expect(await store.reserve({ nowMs: NOW + 10, intervalMs: 1000, latestMs: NOW + 10_010 })).toEqual({
      pausedUntilMs: NOW + 20_000,
    });
    expect(await table.nextSlot()).toBe(NOW + 20_000); // the refused reservation took nothing
    const after = NOW + 20_500;
    expect(await store.reserve({ nowMs: after, intervalMs: 1000, latestMs: after + 10_000 })).toEqual({
      slotMs: after,
    });
  });

  it("never moves the schedule back: a shorter pause leaves a longer one", async () => {
    const table = await sendScheduleTable();
    const store = container(table.tableName);
    await store.pauseUntil(NOW + 30_000);
    await store.pauseUntil(NOW + 20_000);
    expect(await table.nextSlot()).toBe(NOW + 30_000);
  });

  it("fails a call, not its creation, without credentials (the pace then goes on alone)", async () => {
    const store = dynamoSendSchedule({ tableName: "t" }, {});
    await expect(store.nextSlot()).rejects.toThrow(/needs credentials and a region/);
  });

  it("names the service's error when the table is missing", async () => {
    const store = container("no-such-table");
    await expect(store.reserve({ nowMs: NOW, intervalMs: 1000, latestMs: NOW + 1 })).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
