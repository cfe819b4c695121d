/**
 * The faults a scenario injects, each on 127.0.0.1 and each bounded:
 *
 * - **Container kills** (createKiller): a chance per invocation that its container process is
 *   SIGKILLed at a random moment of it, as an out-of-memory or a crashed runtime ends a Lambda
 *   container. The moment is a uniform fraction of a typical invocation's length (a running mean
 *   of the invocations that ended well); an invocation that ends first is not killed, so the
 *   kills are somewhat fewer than the chance says, and every kill is counted.
 * - **A DynamoDB that stops answering** (startStoreFault): a TCP proxy the containers' DynamoDB
 *   endpoint points at (in every scenario: it measures the send schedule's round trips), passing
 *   to moto until silenced, then accepting connections and never answering; the connections it
 *   had go quiet too (nothing passes either way, nothing closes).
 * - **Timed faults** (scheduleFaults): a provider outage, a relay refusing the sender from the
 *   start for a while, the store falling silent at a moment.
 * - **Poison HTML** (poisonHtml, in notificationBody): a `<pre>` of one-character lines in 50 nested quotes, whose text
 *   would be far past the product's output budget (lib/smtp/html-to-text.ts).
 */
import { connect, createServer, type Socket } from "node:net";
import type { SQSEvent } from "aws-lambda";
import type { InvocationResult } from "./containers.ts";
import type { Provider } from "./provider.ts";
import type { ScenarioSpec } from "./spec.ts";

export interface Kill {
  /** When the SIGKILL was sent (epoch ms). */
  at: number;
  slot: number;
  /** When the killed invocation started (epoch ms). */
  invocationStartedAt: number;
  /** The batch's SQS message ids. */
  ids: string[];
  /** Killed in the container's init, before the function had the batch: only the queue's visibility brings it back. */
  duringInit?: boolean;
}

export interface Killer {
  kills: Kill[];
  /** Kills drawn whose moment came after the invocation had ended. */
  missed: () => number;
  /** Runs one invocation (`run`), killing its container (`crash(slot)`) if the draw says so. */
  around(slot: number, event: SQSEvent, run: () => Promise<InvocationResult>): Promise<InvocationResult>;
}

export function createKiller(options: {
  chance: number;
  /** SIGKILLs the slot's container if an invocation is under way in it; whether it did. */
  crash: (slot: number) => boolean;
  /** A typical invocation's length before one has ended (ms). */
  typicalMs: number;
  random?: () => number;
}): Killer {
  const random = options.random ?? Math.random;
  const kills: Kill[] = [];
  let missed = 0;
  let typicalMs = options.typicalMs;
  let ended = 0;
  return {
    kills,
    missed: () => missed,
    async around(slot, event, run) {
      const invocationStartedAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      let drawn = false;
      let killed = false;
      if (random() < options.chance) {
        drawn = true;
        timer = setTimeout(
          () => {
            if (!options.crash(slot)) return;
            killed = true;
            kills.push({
              at: Date.now(),
              slot,
              invocationStartedAt,
              ids: event.Records.map((r) => r.messageId),
            });
          },
          Math.round(random() * typicalMs),
        );
      }
      const result = await run();
      clearTimeout(timer);
      if (drawn && !killed) missed++;
      const kill = killed ? kills.at(-1) : undefined;
      if (kill && /during init/.test(result.error ?? "")) kill.duringInit = true;
      if (result.outcome === "ok") {
        ended++;
        // The mean of the invocations that ended well (their cold starts included).
        typicalMs += (result.ms - typicalMs) / Math.min(ended, 50);
      }
      return result;
    },
  };
}

export interface StoreStats {
  connections: number;
  /** Connections accepted while silent (never answered). */
  silentConnections: number;
  /** Writes from the containers swallowed while silent. */
  swallowedWrites: number;
  /** Before the silence: ms from each request's first bytes to the answer's first bytes (moto's DynamoDB round trip). */
  roundTripsMs: number[];
}

export interface StoreFault {
  /** For AWS_ENDPOINT_URL_DYNAMODB. */
  url: string;
  /** From now on nothing is answered. */
  silence(): void;
  /** Epoch ms since when it has been silent. */
  silentSince(): number | undefined;
  stats(): StoreStats;
  close(): Promise<void>;
}

/**
 * A proxy to `upstream` (moto) on 127.0.0.1 that can be made to stop answering. Every scenario's
 * containers reach DynamoDB through one, which measures the send schedule's round trips.
 */
export async function startStoreFault(upstream: string, silentFromStart: boolean): Promise<StoreFault> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  let silentSince: number | undefined = silentFromStart ? Date.now() : undefined;
  const stats: StoreStats = { connections: 0, silentConnections: 0, swallowedWrites: 0, roundTripsMs: [] };
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    stats.connections++;
    track(client);
    if (silentSince !== undefined) {
      stats.silentConnections++;
      client.on("data", () => stats.swallowedWrites++);
      return;
    }
    const up = connect({ host: target.hostname, port: Number(target.port) });
    track(up);
    /** When the request waiting for its answer began (one at a time on a connection: HTTP/1.1). */
    let asked: number | undefined;
    client.on("data", (chunk) => {
      if (silentSince !== undefined) {
        stats.swallowedWrites++;
        return;
      }
      asked ??= performance.now();
      up.write(chunk);
    });
    up.on("data", (chunk) => {
      if (silentSince !== undefined) return;
      if (asked !== undefined) stats.roundTripsMs.push(performance.now() - asked);
      asked = undefined;
      client.write(chunk);
    });
    // Before the silence, a closed side closes the other; after it, the client is left hanging.
    up.on("close", () => {
      if (silentSince === undefined) client.destroy();
    });
    client.on("close", () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    silence() {
      silentSince ??= Date.now();
    },
    silentSince: () => silentSince,
    stats: () => ({ ...stats, roundTripsMs: [...stats.roundTripsMs] }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Notification n's body: a short text, or the poison HTML for the scenario's poison records. */
export function notificationBody(spec: ScenarioSpec, n: number, recipient: string): string {
  const base = { to: recipient, subject: `Load ${spec.id} #${n}` };
  return JSON.stringify(
    spec.poison?.includes(n)
      ? { ...base, html: poisonHtml() }
      : { ...base, text: `Notification ${n} of ${spec.count} (scenario ${spec.id}).` },
  );
}

/** `lines` one-character lines in a `<pre>` inside `depth` nested `<blockquote>`s (20,000: 61 KB of JSON). */
export function poisonHtml(lines = 20_000, depth = 50): string {
  return `${"<blockquote>".repeat(depth)}<pre>${"x\n".repeat(lines)}</pre>${"</blockquote>".repeat(depth)}`;
}

export interface TimedFaults {
  /** When the provider was down (epoch ms), once it has been. */
  outage?: { from: number; to: number };
  /** When the provider refused the sender (epoch ms). */
  senderRefused?: { from: number; to: number };
  /** Clears the timers and undoes the provider's faults. */
  cancel(): void;
}

/** Starts the spec's timed faults at `startedAt` (now): an outage, the sender refused, the store's silence. */
export function scheduleFaults(
  spec: ScenarioSpec,
  where: {
    provider: Provider;
    store: StoreFault | undefined;
    startedAt: number;
    log: (line: string) => void;
  },
): TimedFaults {
  const { provider, store, startedAt, log } = where;
  const timers: NodeJS.Timeout[] = [];
  const at = (seconds: number, action: () => void) => timers.push(setTimeout(action, seconds * 1000));
  const faults: TimedFaults = {
    cancel() {
      for (const t of timers) clearTimeout(t);
      provider.setDown(false);
      provider.refuseSender(undefined);
    },
  };
  if (spec.outage) {
    const { afterSeconds, seconds } = spec.outage;
    at(afterSeconds, () => {
      faults.outage = { from: Date.now(), to: Date.now() + seconds * 1000 };
      provider.setDown(true);
      log(`  outage begins (${seconds} s): the provider answers 421 at the greeting`);
    });
    at(afterSeconds + seconds, () => {
      provider.setDown(false);
      if (faults.outage) faults.outage.to = Date.now();
      log("  outage ends");
    });
  }
  if (spec.senderRefused) {
    const { seconds, reply } = spec.senderRefused;
    provider.refuseSender(reply);
    faults.senderRefused = { from: startedAt, to: startedAt + seconds * 1000 };
    log(`  the provider refuses the sender for ${seconds} s`);
    at(seconds, () => {
      provider.refuseSender(undefined);
      if (faults.senderRefused) faults.senderRefused.to = Date.now();
      log("  the provider accepts the sender again");
    });
  }
  if (store && spec.silentStore && spec.silentStore.afterSeconds > 0) {
    at(spec.silentStore.afterSeconds, () => {
      store.silence();
      log("  the containers' DynamoDB stops answering");
    });
  }
  return faults;
}
