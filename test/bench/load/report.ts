/** The load test's tables (printed) and docs/load-test.md (written by run.ts). */
import type { ScenarioMetrics } from "./metrics.ts";
import type { ScenarioRun } from "./scenario.ts";

export interface ScenarioOutcome {
  run: ScenarioRun;
  metrics: ScenarioMetrics;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A Markdown table with its columns padded, as the repository's formatter (biome) writes them. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => header.map((_, i) => (row[i] ?? "").replaceAll("|", "\\|")));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => [...(row[i] ?? "")].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => cell + " ".repeat((widths[i] ?? 0) - [...cell].length)).join(" | ")} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function summaryTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows = outcomes.map(({ run, metrics: m }) => {
    const s = run.spec;
    return [
      `${s.id}: ${s.title}`,
      `${s.ratePerSecond}/s, ${s.maxConnections} conn.`,
      `${m.notifications}`,
      `${m.delivered}`,
      `${m.deadLettered}`,
      `${m.lost}${m.lost ? ` (${Math.min(m.lost, m.stillQueued)} still queued)` : ""}`,
      `${m.duplicates.length}`,
      `${m.peak1s} / ${round(m.peak10s, 2)}/s`,
      `${m.throttled} / ${m.connectionRefusals} / ${m.outageRefusals}`,
      `${m.gaveUp ? "≥ " : ""}${round(m.totalSeconds)} s / ${round(m.idealSeconds)} s (${round(m.totalSeconds / m.idealSeconds, 2)}×)`,
      `${m.goals.filter((g) => g.pass).length}/${m.goals.length}`,
    ];
  });
  return markdownTable(
    [
      "Scenario",
      "Provider limit",
      "Notifications",
      "Delivered",
      "Dead-lettered",
      "Lost",
      "Duplicates",
      "Peak accepted: 1 s / 10 s",
      "Refused: 454 / 421 conn. / 421 outage",
      "Time / ideal",
      "Goals met",
    ],
    rows,
  );
}

export function goalsTable(outcomes: readonly ScenarioOutcome[]): string {
  return markdownTable(
    ["Scenario", "Goal", "Measured", ""],
    outcomes.flatMap(({ run, metrics }) =>
      metrics.goals.map((g) => [run.spec.id, g.goal, g.measured, g.pass ? "pass" : "**fail**"]),
    ),
  );
}

/** How the scenario ran, its function's logs, its duplicates: for the reader who wants the why. */
export function scenarioDetails({ run, metrics: m }: ScenarioOutcome): string {
  const s = run.settings;
  const invocations = run.history.invocations;
  const byOutcome = new Map<string, number>();
  for (const i of invocations) byOutcome.set(i.outcome, (byOutcome.get(i.outcome) ?? 0) + 1);
  const meanBatch = invocations.length
    ? round(invocations.reduce((sum, i) => sum + i.records, 0) / invocations.length)
    : 0;
  const logs = [...run.logTally.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  const receiveMs = [...run.history.receiveMs].sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(receiveMs[Math.min(receiveMs.length - 1, Math.floor(p * receiveMs.length))] ?? 0);
  const busyMs = invocations.reduce((sum, i) => sum + (i.endedAt - i.startedAt), 0);
  const busyShare = busyMs / (s.concurrency * Math.max(1, run.endedAt - run.startedAt));
  const lines = [
    `### ${run.spec.id}: ${run.spec.title}`,
    "",
    `- Deployed as: ${s.concurrency} concurrent invocations (maximumConcurrency, ${s.concurrencyFrom === "fallback" ? "**deriveSendLimits gave none: the fallback**" : "from deriveSendLimits"}), NOTIFICATION_POOL_SIZE ${s.poolSize}, SEND_RATE_PER_SECOND ${s.perContainerRate ?? "unset (deriveSendLimits gave none)"}; batch size ${s.batchSize}, batching window ${s.batchingWindowSeconds} s; SMTPServerTimeout ${s.smtpTimeoutSeconds} s, so a function timeout of ${s.functionTimeoutSeconds} s and a visibility timeout of ${s.visibilityTimeoutSeconds} s; redrive after ${s.receiveLimit} receives; give-up after ${s.giveUpSeconds} s.`,
    `- Provider: ${run.spec.ratePerSecond}/s (a bucket of ${s.providerBurst}), ${run.spec.maxConnections} connections; ${run.provider.connections} connections seen, at most ${run.provider.peakOpenSessions} open at once${run.outage ? `; down from ${round((run.outage.from - run.startedAt) / 1000)} s to ${round((run.outage.to - run.startedAt) / 1000)} s, ${run.provider.droppedAtOutage} open sessions dropped with 421 as it began` : ""}.`,
    `- Poller: ${invocations.length} invocations (${[...byOutcome].map(([k, v]) => `${v} ${k}`).join(", ") || "none"}), ${meanBatch} records on average, ${run.coldStarts} cold starts; ${m.receives} receives of the run's messages, the highest receive count ${m.maxReceiveCount}; ${run.history.receiveErrors} receive errors, ${run.history.deleteFailures} failed deletes. The containers were invoked ${Math.round(busyShare * 100)}% of the time; a ReceiveMessage that returned messages took ${pct(0.5)} ms (median), ${pct(0.9)} ms (90th percentile), ${pct(1)} ms at most (moto's grows with the queue's length).`,
    `- Outcome: ${m.delivered} delivered, ${m.deadLettered} dead-lettered (${m.deadLetteredByFunction} by the function with a reason), ${m.lost} neither${m.lost ? ` (the queue still held ${m.stillQueued}: ${run.finalDepth.visible} visible, ${run.finalDepth.inFlight} in flight, ${run.finalDepth.delayed} delayed)` : ""}${run.gaveUp ? "; **gave up** at the give-up time" : ""}${m.strangers ? `; ${m.strangers} accepted messages were none of the run's` : ""}.`,
    `- Offered rate (every MAIL FROM, refused ones included): ${m.offeredPeak1s} in the busiest second, ${round(m.offeredPeak10s, 2)}/s over the busiest 10 s.`,
    `- Function log (LOG_LEVEL=warn), most frequent lines: ${logs.length ? logs.map(([k, v]) => `${v} × "${k}"`).join("; ") : "none"}. Full logs: \`${run.logDir}\`.`,
  ];
  if (m.duplicates.length) {
    lines.push("", "Duplicates:", "");
    for (const d of m.duplicates) {
      lines.push(
        `- notification ${d.notification}, SQS message \`${d.sqsMessageId}\`, accepted at ${d.acceptedAtSeconds.join(" s and ")} s. Receives: ${d.receives.join("; ")}. ${d.explanation}.`,
      );
    }
  }
  return lines.join("\n");
}

export function loadTestDoc(options: {
  outcomes: readonly ScenarioOutcome[];
  machine: string;
  overrides: string[];
  failures: string[];
  /** moto's SQS retention check made cheap (moto-fast.ts). */
  motoFast: boolean;
}): string {
  const { outcomes, machine, overrides, failures, motoFast } = options;
  const ran = outcomes.map((o) => o.run.spec.id).join(", ") || "none";
  return `# Load test

Written by \`npm run load\` (\`test/bench/load/run.ts\`); last run on ${machine}, scenarios ${ran}${
    overrides.length ? `, **with overrides: ${overrides.join(", ")}** (not the scenarios as defined)` : ""
  }. \`LOAD_SCENARIO=a\` (or \`a,c\`) runs some of them. Everything runs on 127.0.0.1.

${outcomes.length ? summaryTable(outcomes) : "(no scenario finished)"}
${failures.length ? `\nScenarios that did not run to the end: ${failures.join("; ")}\n` : ""}
## Goals

${outcomes.length ? goalsTable(outcomes) : ""}

- **0 lost**: every notification delivered or in the dead-letter queue.
- **0 in the dead-letter queue**: throttling and outages are transient; only a notification that
  can never succeed belongs there, and the scenarios send none.
- **Peak rate never above the limit**: the provider never refused for rate (no 454), and what
  the fleet offered over the busiest 10 s stayed within what the provider's own bucket allows
  (limit + burst ÷ 10).
- **Total time ≤ 1.25 × ideal** once the limit is known (the function knows its share from the
  start): ideal is count ÷ limit, plus the outage where there is one.
- **Duplicates 0, or each explained by an at-least-once window**: a message sent, then delivered
  again because its success did not reach SQS (reported failed, the invocation failed, its
  delete failed, or its visibility ran out while it was still being sent).

## The scenarios

- **a**: 2,000 notifications against a provider allowing 20 messages/s and 4 connections.
- **b**: the same, with the provider down for 5 minutes from the middle of the ideal send (50 s
  in): every new connection refused with \`421 4.3.2\` at the greeting, the sessions open then
  told 421 and closed.
- **c**: a burst of 100 against a sandbox-like 1 message/s and 2 connections.

## How it is measured

- **SQS**: moto_server's real SQS API (JSON protocol)${
    motoFast
      ? ", started by the tests' startMoto with one change (`test/bench/load/moto-fast.ts`): the retention check of every message a receive returns reads the one attribute it needs, instead of computing every queue attribute (a pass over all messages each), which made a receive from a queue of 2,000 take about a second and set the pace instead of the function; same answers"
      : " exactly as it is (LOAD_MOTO_FAST=0): a receive from a queue of 2,000 takes about a second, which may set the pace instead of the function"
  }. The notification queue and its
  dead-letter queue are created as the stack creates them: redrive after
  \`RETRY_POLICY.receiveLimit\` receives, a visibility timeout of 6 × the function's timeout
  (\`queueVisibilitySeconds(sendNotificationTimeoutSeconds(T, batchSize, poolSize, rate))\`,
  \`infra/sizing.ts\`, as the stack sizes them). The settings are in moto's SSM under a root of the run's own.
- **The function**: send-notification bundled by \`bundleFunction\` (what CDK deploys), run in
  separate long-lived Node processes, one per concurrent invocation (a Lambda container: started
  by its first invocation, kept warm, serving one invocation at a time, killed and replaced at its
  timeout), each with the function's environment only: test credentials, \`AWS_ENDPOINT_URL\` at
  moto, \`SETTINGS_PATH\`, \`NOTIFICATION_QUEUE_URL\`, \`DEAD_LETTER_QUEUE_URL\`,
  \`NOTIFICATION_POOL_SIZE\` and \`SEND_RATE_PER_SECOND\` from
  \`deriveSendLimits({ maxSendRate, maxConnections }, notificationPoolSize)\` (whose
  maxConcurrency sets the concurrency), the fleet's send schedule as the stack makes it for a
  rate (\`SEND_SCHEDULE_TABLE\`, a table in moto's DynamoDB, and \`FLEET_SEND_RATE_PER_SECOND\`,
  the limit), \`LOG_LEVEL=warn\`.
- **The poller** plays Lambda's SQS event source: the stack's batch size and batching window
  (counted from a batch's first record), up to maxConcurrency invocations at once, each slot
  polling ReceiveMessage (with ApproximateReceiveCount, SentTimestamp,
  ApproximateFirstReceiveTimestamp), building the records Lambda builds (receipt handles
  included), invoking, deleting what succeeded with DeleteMessageBatch and leaving
  batchItemFailures, whose visibility stays what the function set. An error, a timeout or a
  response naming an unknown record fails the whole batch, as in Lambda. As Lambda's pollers run
  apart from its invocations, each slot gathers its next batch while the current one is invoked
  (one batch ahead): moto's ReceiveMessage takes longer the longer the queue (unchanged, about a
  second with 2,000 messages on these machines), and would otherwise pace the containers. Every receive
  of every message is recorded, for explaining duplicates. The poller's calls to the queue are
  made one at a time, with long polls of 1 s rather than Lambda's 20 s: moto's SQS is not safe
  under concurrent calls on one queue (two concurrent receives were seen handing one message to
  both, and two concurrent deletes can bring back a message one of them deleted).
- **The provider**: \`smtp-server\` with the product's provider hooks (\`local/smtp-limits.ts\`):
  a token bucket of the limit's rate holding a second's worth (SES's
  \`454 Throttling failure: Maximum sending rate exceeded.\` at MAIL FROM), a connection limit
  (Postfix's \`421 4.7.0 Error: too many connections from …\` at the greeting), the outage switch.
  It records every accepted message (Message-ID, when its MAIL FROM went through) and every
  refusal.
- **Delivered**: unique Message-IDs accepted (the function's Message-ID is the SQS message id at
  the sender's domain, the same on every delivery, so a second acceptance is a duplicate).
  **Dead-lettered**: notifications read back from the dead-letter queue at the end (matched by
  message id or recipient). **Lost**: neither.
- **Peak rate**: a message counts at the moment the provider's limiter let its MAIL FROM through
  (the moment the provider charges it; its data is accepted milliseconds later). The 1 s figure
  is the most counted in any window [t, t + 1 s); the 10 s figure the most in any [t, t + 10 s),
  divided by 10. "Offered" counts every MAIL FROM, refused ones included.
- **Why a 1 s window can read a little above the limit** while nothing is wrong: the fleet's
  schedule spaces the sends' starts 1.05 ÷ limit apart, but what the provider counts is the MAIL
  FROM a few milliseconds later, sooner on a session already open than on one still opening, so
  a window of exactly one second can catch one more than the rate. The provider's bucket allows
  it: it holds a second's worth. Over 10 s that weighs a tenth as much, which is why the goal is
  judged on the 10 s window and on the provider's own refusals, and the 1 s figure is reported.
- **Time**: from the poller's start (all notifications already queued) to the last acceptance,
  against count ÷ limit (plus the outage). A scenario gives up at 3 × that ideal, or 10 minutes
  past it if sooner (a minute at least), and reports what it has then (time marked ≥, records
  still queued counted as lost).

## Details of the last run

${outcomes.map(scenarioDetails).join("\n\n")}
`;
}
