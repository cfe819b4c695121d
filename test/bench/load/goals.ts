/**
 * The goals a scenario is judged by, from its spec: every scenario's (0 lost, the dead-letter
 * queue, duplicates explained), the rate's when the stack knows the provider's limits, the time's
 * (1.25 × the ideal unless the scenario says otherwise), and each fault's: that it happened, and
 * what it may cost (docs/load-test.md explains each).
 */
import { DEAD_LETTER_ATTRIBUTES } from "../../../lib/aws-sqs/index.ts";
import { type Goal, round, type ScenarioMetrics } from "./metrics.ts";
import type { ScenarioRun } from "./scenario.ts";

/** After a kill, its batch's unsent records are delivered within about 2 minutes. */
export const KILL_TO_DELIVERY_GOAL_SECONDS = 120;

/**
 * After a kill in a container's init, before the function had its batch: the queue's visibility
 * timeout brings it back (the function's timeout, the least Lambda accepts), and this much more
 * for its next receive and sends.
 */
export const INIT_KILL_EXTRA_SECONDS = 20;

export function goalsFor(run: ScenarioRun, m: Omit<ScenarioMetrics, "goals">): Goal[] {
  const { spec, settings } = run;
  const goals: Goal[] = [
    {
      goal: "0 lost",
      measured: `${m.lost} lost${m.lost ? ` (${Math.min(m.lost, m.stillQueued)} still queued)` : ""}`,
      pass: m.lost === 0,
    },
    deadLetterGoal(run, m),
  ];

  if (spec.limitsConfigured !== false) {
    // The provider's bucket passes at most burst + rate × w in any window w: over 10 s, the limit
    // plus a tenth of the burst. Within that and never refused for rate: never above the limit.
    const bound = m.limit + settings.providerBurst / 10;
    goals.push({
      goal: `peak rate never above the limit (${m.limit}/s): no 454, 10 s peak ≤ ${round(bound, 2)}/s`,
      measured: `10 s: ${round(m.peak10s, 2)}/s accepted, ${round(m.offeredPeak10s, 2)}/s offered; 1 s: ${m.peak1s} accepted, ${m.offeredPeak1s} offered; ${m.throttled}×454`,
      pass: m.throttled === 0 && m.offeredPeak10s <= bound,
    });
  }

  if (spec.timeGoal !== false) {
    const { factor, plusSeconds = 0 } = spec.timeGoal ?? { factor: 1.25 };
    const limit = factor * m.idealSeconds + plusSeconds;
    const done = m.lost === 0;
    goals.push({
      goal: `total time ≤ ${factor} × ideal (${round(m.idealSeconds)} s)${plusSeconds ? ` + ${plusSeconds} s = ${round(limit)} s` : ""}`,
      measured: `${done ? "" : "≥ "}${round(m.totalSeconds)} s (${round(m.totalSeconds / m.idealSeconds, 2)}×)`,
      pass: done && m.totalSeconds <= limit,
    });
  }

  goals.push({
    goal: "duplicates 0, or each explained by an at-least-once window",
    measured: `${m.duplicates.length}${m.duplicates.length ? ` (${m.duplicates.filter((d) => d.explained).length} explained)` : ""}`,
    pass: m.duplicates.every((d) => d.explained),
  });

  if (spec.kills) {
    const k = m.kills;
    goals.push(
      {
        goal: `containers killed mid-invocation (a chance of ${spec.kills.chance} per invocation)`,
        measured: `${k.kills} kills of ${m.invocations} invocations (${run.killsMissed} drawn came after their invocation ended)`,
        pass: k.kills > 0,
      },
      {
        goal: `duplicates per kill ≤ the sessions in flight (the pool: ${settings.poolSize})`,
        measured: `at most ${k.maxDuplicatesPerKill}, ${round(k.meanDuplicatesPerKill, 2)} on average (${k.duplicates} in all)`,
        pass: k.kills > 0 && k.maxDuplicatesPerKill <= settings.poolSize,
      },
      {
        goal: `a kill's unsent records delivered within ${KILL_TO_DELIVERY_GOAL_SECONDS} s of it`,
        measured:
          k.maxToDeliverySeconds === undefined
            ? "no kill left records unsent"
            : `at most ${Number.isFinite(k.maxToDeliverySeconds) ? `${round(k.maxToDeliverySeconds)} s` : "never (some were not delivered)"}`,
        pass: k.maxToDeliverySeconds === undefined || k.maxToDeliverySeconds <= KILL_TO_DELIVERY_GOAL_SECONDS,
      },
      {
        goal: `a kill in a container's init (before the function had its batch): delivered within the queue's visibility timeout (${settings.visibilityTimeoutSeconds} s) + ${INIT_KILL_EXTRA_SECONDS} s`,
        measured:
          k.maxToDeliveryDuringInitSeconds === undefined
            ? "no kill in an init left records unsent"
            : `at most ${Number.isFinite(k.maxToDeliveryDuringInitSeconds) ? `${round(k.maxToDeliveryDuringInitSeconds)} s` : "never (some were not delivered)"}`,
        pass:
          k.maxToDeliveryDuringInitSeconds === undefined ||
          k.maxToDeliveryDuringInitSeconds <= settings.visibilityTimeoutSeconds + INIT_KILL_EXTRA_SECONDS,
      },
    );
  }
  if (spec.silentStore) {
    const s = run.store;
    goals.push({
      goal: "the containers asked the silent DynamoDB and got no answer",
      measured: `${s.silentConnections} connections held unanswered, ${s.swallowedWrites} writes swallowed`,
      pass: s.silentConnections + s.swallowedWrites > 0,
    });
  }
  if (spec.senderRefused) {
    goals.push({
      goal: "the sender was refused while the relay refused it",
      measured: `${m.senderRefusals} MAIL FROM refused (${spec.senderRefused.reply.split(" ", 1)[0]})`,
      pass: m.senderRefusals > 0,
    });
  }
  return goals;
}

function deadLetterGoal(run: ScenarioRun, m: Omit<ScenarioMetrics, "goals">): Goal {
  const poison = run.spec.poison ?? [];
  if (poison.length === 0) {
    return { goal: "0 in the dead-letter queue", measured: `${m.deadLettered}`, pass: m.deadLettered === 0 };
  }
  const wanted = new Set(poison);
  const got = new Set(m.deadLetters.map((d) => d.notification));
  const others = [...got].filter((n) => !wanted.has(n));
  const missing = poison.filter((n) => !got.has(n));
  const badReason = m.deadLetters.filter(
    (d) =>
      wanted.has(d.notification) &&
      (d.attributes[DEAD_LETTER_ATTRIBUTES.code] !== "InvalidMessageError" ||
        !d.attributes[DEAD_LETTER_ATTRIBUTES.reason]),
  );
  const reasons = [...new Set(m.deadLetters.map((d) => d.attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? ""))];
  return {
    goal: `exactly the ${poison.length} poison records dead-lettered, by the function, with FailureCode InvalidMessageError and a reason`,
    measured: `${m.deadLettered} dead-lettered: ${poison.length - missing.length} poison, ${others.length} others, ${badReason.length} without that code or a reason; reason: ${reasons.map((r) => `"${r}"`).join(", ") || "none"}`,
    pass: missing.length === 0 && others.length === 0 && badReason.length === 0,
  };
}
