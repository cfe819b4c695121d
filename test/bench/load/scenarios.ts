/**
 * The load test's scenarios (`LOAD_SCENARIO=a,d` picks some), each with its overrides applied:
 * the bursts against a provider's limits (a, b, c), the faults of issue 19 (d to h), and a
 * provider the stack was told nothing about against the same provider configured (i, j).
 */
import type { ScenarioSpec } from "./spec.ts";

export interface ScenarioOverrides {
  count?: number | undefined;
  rate?: number | undefined;
  connections?: number | undefined;
  outageSeconds?: number | undefined;
  /** The kill scenario's chance per invocation. */
  killChance?: number | undefined;
  /** The sender scenario's refusal window, seconds. */
  refusalSeconds?: number | undefined;
}

/** A relay's refusal of a sender the account does not own (Postfix's reject_sender_login_mismatch). */
export const SENDER_REFUSAL = "553 5.7.1 <noreply@load.example>: Sender address rejected: not owned by user";

export function loadScenarios(o: ScenarioOverrides = {}): ScenarioSpec[] {
  const base = (
    id: string,
    title: string,
    description: string,
    n: number,
    perSecond: number,
    conns: number,
    more: Partial<ScenarioSpec> = {},
  ): ScenarioSpec => ({
    id,
    title,
    description,
    count: o.count ?? n,
    ratePerSecond: o.rate ?? perSecond,
    maxConnections: o.connections ?? conns,
    ...more,
  });
  /** Halfway through the ideal send of `spec`. */
  const halfway = (spec: ScenarioSpec) => spec.count / spec.ratePerSecond / 2;
  const a = (id: string, title: string, description: string, more: Partial<ScenarioSpec> = {}) =>
    base(id, title, description, 2000, 20, 4, more);

  const b = a(
    "b",
    "as a, with a 5-minute outage",
    "the same, with the provider down for 5 minutes from the middle of the ideal send (50 s in): every new connection refused with `421 4.3.2` at the greeting, the sessions open then told 421 and closed.",
  );
  b.outage = { afterSeconds: halfway(b), seconds: o.outageSeconds ?? 300 };
  const f = a(
    "f",
    "as a, DynamoDB stops answering halfway",
    "as e, but the containers' DynamoDB answers (a proxy to moto) until the middle of the ideal send, then stops: new connections accepted and never answered, and the open ones go quiet.",
  );
  f.silentStore = { afterSeconds: halfway(f) };
  const count = o.count ?? 2000;
  const poison = [...new Set([Math.floor(count / 4), Math.floor(count / 2), Math.floor((3 * count) / 4)])];
  const refusalSeconds = o.refusalSeconds ?? 60;

  return [
    a(
      "a",
      "2,000 at 20/s, 4 connections",
      "2,000 notifications against a provider allowing 20 messages/s and 4 connections.",
    ),
    b,
    base(
      "c",
      "burst of 100 at 1/s (sandbox)",
      "a burst of 100 against a sandbox-like 1 message/s and 2 connections.",
      100,
      1,
      2,
    ),
    a(
      "d",
      "as a, with container kills",
      `as a, with each invocation's container SIGKILLed at a random moment of it by a chance of ${o.killChance ?? 0.1} (an out-of-memory, a crashed runtime): the poller fails that invocation as Lambda does (the batch is left to its visibility) and the next invocation starts a new container. The time is reported, not judged.`,
      { kills: { chance: o.killChance ?? 0.1 }, timeGoal: false },
    ),
    a(
      "e",
      "as a, DynamoDB never answers",
      "as a, with the containers' DynamoDB (`AWS_ENDPOINT_URL_DYNAMODB`, the send schedule's) a TCP server on 127.0.0.1 that accepts connections and never answers, throughout: the containers pace at their own share.",
      { silentStore: { afterSeconds: 0 } },
    ),
    f,
    a(
      "g",
      `as a, the sender refused for ${refusalSeconds} s`,
      `as a, with the provider refusing every MAIL FROM with \`${SENDER_REFUSAL}\` (a settings refusal: retried with back-off, never dead-lettered) for the first ${refusalSeconds} s, as a relay an operator then fixes. The ideal includes the ${refusalSeconds} s; the time goal adds the back-off's cap (60 s × 1.25).`,
      {
        senderRefused: { seconds: refusalSeconds, reply: SENDER_REFUSAL },
        timeGoal: { factor: 1.25, plusSeconds: 75 },
      },
    ),
    a(
      "h",
      "as a, with poison HTML records",
      `as a, with notifications ${poison.join(", ")} given an \`html\` body of 20,000 one-character lines in a \`<pre>\` inside 50 nested \`<blockquote>\`s (61 KB of JSON), whose text html-to-text would write 50 times over: the product refuses it (InvalidMessageError) and dead-letters it at once.`,
      { poison },
    ),
    base(
      "i",
      "600 at 20/s, 4 conn., limits unknown",
      `600 notifications against 20 messages/s and 4 connections, deployed with \`provider\` unlimited: no maxConcurrency (the poller scales as Lambda does: 5 invocations at once, then 300 more a minute, up to one per batch the queue holds: ${Math.ceil((o.count ?? 600) / 10)}), no \`SEND_RATE_PER_SECOND\` and no \`FLEET_SEND_RATE_PER_SECOND\`, but the send-schedule table (\`SEND_SCHEDULE_TABLE\`), where the fleet learns a rate at the provider's first throttle and the connection limit at its first refusal of a connection, and counts its connections under it (docs/delivery.md). The rate goal does not apply (the stack knows no rate); the time goal is 1.5 × ideal.`,
      600,
      20,
      4,
      // 10 minutes: long enough to see when it ends, not only that it missed its goal.
      { limitsConfigured: false, timeGoal: { factor: 1.5 }, giveUpSeconds: 600 },
    ),
    base(
      "j",
      "600 at 20/s, 4 conn., limits configured",
      "i's burst with the limits configured (`maxSendRate` 20, `maxConnections` 4), for comparison: time goal 1.1 × ideal.",
      600,
      20,
      4,
      { timeGoal: { factor: 1.1 } },
    ),
  ];
}
