/**
 * The fleet's send schedule in DynamoDB (moto_server's), as several containers use it: each
 * store below has a client of its own, as each container has.
 */
import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { dynamoSendSchedule, SEND_SCHEDULE_KEY } from "../../../lib/aws-dynamodb/index.ts";
import {
  createFleetPace,
  createSendRate,
  type FleetScheduleStore,
} from "../../../lib/notifications/index.ts";
import { NotStartedError } from "../../../lib/smtp/index.ts";
import { dynamoClient, dynamoEnv, sendScheduleTable } from "../../helpers/dynamodb.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** Writes the schedule's next free slot as it is stored, as a broken container (or a hand) might. */
async function writeNextSlot(tableName: string, ms: number) {
  await dynamoClient().call("PutItem", {
    TableName: tableName,
    Item: { [SEND_SCHEDULE_KEY.attribute]: { S: SEND_SCHEDULE_KEY.value }, nextSlot: { N: String(ms) } },
  });
}

/** One container's pace over the table, on the real clock: 10 a second for the fleet. */
const fleetPace = (store: FleetScheduleStore) =>
  createFleetPace({ local: createSendRate({ perSecond: 10 }), store, fleetRatePerSecond: 10 });

/** A TCP server standing in for DynamoDB that accepts connections and never answers. */
async function silentEndpoint() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, accepted: () => sockets.size };
}

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

  it("gives each call a short deadline and one attempt: a silent DynamoDB fails it within a second", async () => {
    const silent = await silentEndpoint();
    const store = dynamoSendSchedule(
      { tableName: "t" },
      { ...dynamoEnv(), AWS_ENDPOINT_URL_DYNAMODB: silent.url },
    );
    const started = performance.now();
    await expect(store.nextSlot()).rejects.toMatchObject({ code: "ETIMEDOUT" });
    await expect(
      store.reserve({ nowMs: NOW, intervalMs: 1000, latestMs: NOW + 5_000 }),
    ).rejects.toMatchObject({
      code: "ETIMEDOUT",
    });
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(silent.accepted()).toBe(2); // one attempt each
  });

  it("ignores a next slot written 10 years ahead, overwrites it, and sends at once", async () => {
    const table = await sendScheduleTable();
    const corrupt = Date.now() + 10 * 365 * 86_400_000;
    await writeNextSlot(table.tableName, corrupt);
    const pace = fleetPace(container(table.tableName));

    const started = Date.now();
    await pace.beforeOpen?.();
    await pace.take();
    await pace.take();
    expect(Date.now() - started).toBeLessThan(1_000);
    const next = await table.nextSlot();
    expect(next).toBeGreaterThan(started);
    expect(next).toBeLessThan(Date.now() + 1_000); // rewritten: the present plus an interval or two
  });

  it("ignores a next slot an hour ahead (a clock an hour fast), but honours the fleet's pause", async () => {
    const table = await sendScheduleTable();
    await writeNextSlot(table.tableName, Date.now() + 3_600_000);
    const started = Date.now();
    await fleetPace(container(table.tableName)).take();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await table.nextSlot()).toBeLessThan(Date.now() + 1_000);

    // A throttle's pause of 20 s is legitimate: the fleet sends nothing until it ends.
    await fleetPace(container(table.tableName)).throttled();
    const paused = await table.nextSlot();
    expect(paused).toBeGreaterThan(Date.now() + 15_000);
    await expect(fleetPace(container(table.tableName)).take()).rejects.toBeInstanceOf(NotStartedError);
    await expect(fleetPace(container(table.tableName)).beforeOpen?.()).rejects.toBeInstanceOf(
      NotStartedError,
    );
    expect(await table.nextSlot()).toBe(paused);
  });

  it("reserves over a corrupt slot by overwriting it, and a throttle pauses over one", async () => {
    const table = await sendScheduleTable();
    const store = container(table.tableName);
    const corrupt = NOW + 10 * 365 * 86_400_000;
    await writeNextSlot(table.tableName, corrupt);
    const request = { nowMs: NOW, intervalMs: 1000, latestMs: NOW + 5_000, corruptAfterMs: NOW + 30_000 };

    expect(await store.reserve(request)).toEqual({ slotMs: NOW, overwroteMs: corrupt });
    expect(await table.nextSlot()).toBe(NOW + 1000);
    // Within the bound, a pause stands.
    await store.pauseUntil(NOW + 20_000, { corruptAfterMs: NOW + 30_000 });
    expect(await store.reserve(request)).toEqual({ pausedUntilMs: NOW + 20_000 });

    // A throttle over a corrupt slot pauses the fleet for its own pause, not until the corrupt one.
    await writeNextSlot(table.tableName, corrupt);
    await store.pauseUntil(NOW + 20_000, { corruptAfterMs: NOW + 30_000 });
    expect(await table.nextSlot()).toBe(NOW + 20_000);
  });

  it("overwrites a corrupt slot only while it is the value read", async () => {
    const table = await sendScheduleTable();
    await writeNextSlot(table.tableName, NOW + 10 * 365 * 86_400_000);
    // Another container pauses the fleet between this one's read and its overwrite.
    const client = dynamoClient();
    let raced = false;
    const store = dynamoSendSchedule({
      tableName: table.tableName,
      client: {
        async call(operation, input) {
          const out = await client.call(operation, input);
          if (operation === "GetItem" && !raced) {
            raced = true;
            await writeNextSlot(table.tableName, NOW + 20_000);
          }
          return out as never;
        },
      },
    });
    const request = { nowMs: NOW, intervalMs: 1000, latestMs: NOW + 5_000, corruptAfterMs: NOW + 30_000 };
    expect(await store.reserve(request)).toEqual({ pausedUntilMs: NOW + 20_000 });
    expect(await table.nextSlot()).toBe(NOW + 20_000);
  });
});
