/**
 * The fleet's connection leases between "containers" (mailers, each with its own DynamoDB client
 * over moto_server's table), in front of a real SMTP server that allows two connections and
 * refuses a third as Postfix's anvil does (`421 4.7.0 Error: too many connections`).
 */
import { describe, expect, it } from "vitest";
import { dynamoConnectionLeases } from "../../../lib/aws-dynamodb/index.ts";
import { createConnectionLeases } from "../../../lib/notifications/index.ts";
import { createMailer, createSessionKeeper, type MailerOptions } from "../../../lib/smtp/index.ts";
import { dynamoClient, sendScheduleTable } from "../../helpers/dynamodb.ts";
import { perTest } from "../../helpers/per-test.ts";
import { message, settings } from "../smtp/fixtures.ts";

const { smtpServer: server } = perTest();

/** As send-notification sets them with the limits unknown: a refused connection is tried again in a moment. */
const REOPEN = [50, 100, 200] as const;
/** Each send takes this long (the container's pace), so a session is held longer than the reopen waits allow for. */
const paced = { pace: () => new Promise<void>((r) => setTimeout(r, 200)) };

async function threeContainers(gated: boolean) {
  const s = await server({ limits: { maxConnections: 2 } });
  const { tableName } = await sendScheduleTable();
  const learned: number[] = [];
  const container = async (name: string, startAfterMs: number) => {
    await new Promise((r) => setTimeout(r, startAfterMs));
    const options: MailerOptions = { reopenRefusedAfterMs: REOPEN, ...paced };
    if (gated) {
      options.gate = createConnectionLeases({
        store: dynamoConnectionLeases({ tableName, client: dynamoClient() }),
        onLearned: (n) => learned.push(n),
      });
    }
    const mailer = createMailer(settings({ SMTPPort: s.port }), options);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => mailer.send({ ...message, to: `${name}${i}@example.com` })),
    );
    await mailer.close();
    return outcomes;
  };
  // The third starts a moment after the two the server allows, so it is the one refused.
  const outcomes = (await Promise.all([container("a", 0), container("b", 0), container("c", 150)])).flat();
  return { s, learned, outcomes, tableName };
}

describe("the fleet's connection leases against a relay's connection limit", () => {
  it("without them, a third container's batch fails once its quick retries are spent", async () => {
    const { s, outcomes } = await threeContainers(false);
    expect(outcomes.filter((o) => o.status === "rejected").length).toBeGreaterThan(0);
    expect(s.limits?.stats.refusedConnections).toBeGreaterThan(1);
  });

  it("with them, the fleet learns the limit at the first refusal, and the third container waits its turn", async () => {
    const { s, learned, outcomes, tableName } = await threeContainers(true);
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    expect(s.messages).toHaveLength(15);
    expect(s.limits?.stats.refusedConnections).toBe(1);
    expect(learned).toEqual([2]);
    const state = await dynamoConnectionLeases({ tableName, client: dynamoClient() }).read();
    expect(state.limit?.connections).toBe(2);
    expect(state.holders).toEqual({}); // every session closed, every lease released
  });

  it("keeps no idle session for the next batch once the fleet knows the limit: a waiting container gets it at once", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const { tableName } = await sendScheduleTable();
    const store = () => dynamoConnectionLeases({ tableName, client: dynamoClient() });
    await store().learnLimit({ connections: 1, atMs: Date.now() }, 0);
    // Kept, the session would make the waiting container wait out the keeper's 30 s
    // (SMTPServerTimeout is longer still).
    const keeper = createSessionKeeper({ maxIdleMs: 30_000 });
    const kept = settings({ SMTPPort: s.port, SMTPServerTimeout: 60 });
    const a = createMailer(kept, {
      gate: createConnectionLeases({ store: store() }),
      keeper,
    });
    await a.send(message);

    const b = createMailer(kept, { gate: createConnectionLeases({ store: store() }) });
    const waiting = b.send({ ...message, to: "waiting@example.com" });
    await new Promise((r) => setTimeout(r, 600)); // b has asked, and waits
    await a.close();
    const sent = await Promise.race([
      waiting,
      new Promise((r) => setTimeout(() => r("still waiting"), 3000)),
    ]);
    expect(sent).toMatchObject({ response: expect.stringMatching(/^250/) });
    await b.close();

    expect(keeper.size).toBe(0);
    expect(s.messages).toHaveLength(2);
    expect(s.limits?.stats.refusedConnections).toBe(0);
    await keeper.closeAll();
  });

  it("sends a pool's messages over the sessions it has when the fleet has no connection more for it", async () => {
    const s = await server({ limits: { maxConnections: 1 } });
    const { tableName } = await sendScheduleTable();
    const store = dynamoConnectionLeases({ tableName, client: dynamoClient() });
    await store.learnLimit({ connections: 1, atMs: Date.now() }, 0);
    const mailer = createMailer(settings({ SMTPPort: s.port }), {
      poolSize: 2,
      gate: createConnectionLeases({ store }),
    });
    const sends = Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => mailer.send({ ...message, to: `pool${i}@example.com` })),
    );
    // The second slot must not wait for a lease its own pool's session holds.
    const outcomes = await Promise.race([
      sends,
      new Promise((r) => setTimeout(() => r("still waiting"), 3000)),
    ]);
    await mailer.close();

    expect(outcomes).toEqual(
      Array.from({ length: 4 }, () => expect.objectContaining({ status: "fulfilled" })),
    );
    expect(s.connections()).toBe(1);
    expect(s.limits?.stats.refusedConnections).toBe(0);
  });

  it("releases the lease of a session the server dropped while it was idle, when the pool finds it dead", async () => {
    const s = await server({ socketTimeoutMs: 300 });
    const { tableName } = await sendScheduleTable();
    const store = dynamoConnectionLeases({ tableName, client: dynamoClient() });
    const mailer = createMailer(settings({ SMTPPort: s.port }), { gate: createConnectionLeases({ store }) });
    await mailer.send(message);
    await new Promise((r) => setTimeout(r, 800)); // the server closes the idle connection
    await mailer.send({ ...message, to: "after@example.com" });
    await new Promise((r) => setTimeout(r, 100)); // the dead one's release, in the background

    // One lease, the live session's: the dead one's is not renewed for the container's life.
    const { holders } = await store.read();
    expect(Object.keys(holders)).toHaveLength(1);
    await mailer.close();
    expect(Object.keys((await store.read()).holders)).toHaveLength(0);
  });
});
