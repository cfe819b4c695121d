/** The load test's tables and each scenario's details (printed, and in docs/load-test.md: doc.ts). */
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

/** Seconds as the table shows them, or "never". */
const seconds = (s: number) => (Number.isFinite(s) ? `${round(s)} s` : "never");

export function summaryTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows = outcomes.map(({ run, metrics: m }) => {
    const s = run.spec;
    const k = m.kills;
    const toDelivery = k.maxToDeliverySeconds;
    return [
      `${s.id}: ${s.title}`,
      `${s.ratePerSecond}/s, ${s.maxConnections} conn.${s.limitsConfigured === false ? " (not configured)" : ""}`,
      `${m.notifications}`,
      `${m.delivered}`,
      `${m.deadLettered}`,
      `${m.lost}${m.lost ? ` (${Math.min(m.lost, m.stillQueued)} still queued)` : ""}`,
      `${m.duplicates.length}`,
      s.kills ? `${k.kills}` : "–",
      s.kills ? `${k.maxDuplicatesPerKill} / ${round(k.meanDuplicatesPerKill, 2)}` : "–",
      !s.kills || (toDelivery === undefined && k.maxToDeliveryDuringInitSeconds === undefined)
        ? "–"
        : [
            toDelivery === undefined ? undefined : seconds(toDelivery),
            k.maxToDeliveryDuringInitSeconds === undefined
              ? undefined
              : `in an init: ${seconds(k.maxToDeliveryDuringInitSeconds)}`,
          ]
            .filter(Boolean)
            .join("; "),
      `${m.peak1s} / ${round(m.peak10s, 2)}/s`,
      `${m.throttled} / ${m.connectionRefusals} / ${m.outageRefusals} / ${m.senderRefusals}`,
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
      "Kills",
      "Duplicates per kill: max / mean",
      "Kill → its unsent delivered (max)",
      "Peak accepted: 1 s / 10 s",
      "Refused: 454 / 421 conn. / 421 outage / 553 sender",
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
    `- Deployed as: ${s.concurrency} concurrent invocations (${s.concurrencyFrom === "lambda-scaling" ? `no maximumConcurrency: Lambda's scaling, ${s.scaling?.initial} at once then ${s.scaling?.perMinute} more a minute, up to one per batch queued` : "maximumConcurrency, from deriveSendLimits"}), NOTIFICATION_POOL_SIZE ${s.poolSize}, SEND_RATE_PER_SECOND ${s.perContainerRate ?? "unset (deriveSendLimits gave none)"}, FLEET_SEND_RATE_PER_SECOND ${s.fleetRate ?? "unset"}, FLEET_MAX_CONNECTIONS ${s.fleetConnections ?? "unset"} (SEND_SCHEDULE_TABLE set); batch size ${s.batchSize}, batching window ${s.batchingWindowSeconds} s; SMTPServerTimeout ${s.smtpTimeoutSeconds} s, so a function timeout of ${s.functionTimeoutSeconds} s and a visibility timeout of ${s.visibilityTimeoutSeconds} s; redrive after ${s.receiveLimit} receives; give-up after ${s.giveUpSeconds} s.`,
    `- Provider: ${run.spec.ratePerSecond}/s (a bucket of ${s.providerBurst}), ${run.spec.maxConnections} connections; ${run.provider.connections} connections seen, at most ${run.provider.peakOpenSessions} open at once${run.outage ? `; down from ${round((run.outage.from - run.startedAt) / 1000)} s to ${round((run.outage.to - run.startedAt) / 1000)} s, ${run.provider.droppedAtOutage} open sessions dropped with 421 as it began` : ""}.`,
    `- Poller: ${invocations.length} invocations (${[...byOutcome].map(([k, v]) => `${v} ${k}`).join(", ") || "none"}), ${meanBatch} records on average, ${run.coldStarts} cold starts; ${m.receives} receives of the run's messages, the highest receive count ${m.maxReceiveCount}; ${run.history.receiveErrors} receive errors, ${run.history.deleteFailures} failed deletes. The containers were invoked ${Math.round(busyShare * 100)}% of the time; a ReceiveMessage that returned messages took ${pct(0.5)} ms (median), ${pct(0.9)} ms (90th percentile), ${pct(1)} ms at most (moto's grows with the queue's length).`,
    `- Outcome: ${m.delivered} delivered, ${m.deadLettered} dead-lettered (${m.deadLetteredByFunction} by the function with a reason), ${m.lost} neither${m.lost ? ` (the queue still held ${m.stillQueued}: ${run.finalDepth.visible} visible, ${run.finalDepth.inFlight} in flight, ${run.finalDepth.delayed} delayed)` : ""}${run.gaveUp ? "; **gave up** at the give-up time" : ""}${m.strangers ? `; ${m.strangers} accepted messages were none of the run's` : ""}.`,
    `- Offered rate (every MAIL FROM, refused ones included): ${m.offeredPeak1s} in the busiest second, ${round(m.offeredPeak10s, 2)}/s over the busiest 10 s.`,
    `- Function log (LOG_LEVEL=warn), most frequent lines: ${logs.length ? logs.map(([k, v]) => `${v} × "${k}"`).join("; ") : "none"}. Full logs, and the run's raw record (\`run.json\`): \`${run.logDir}\`.`,
  ];
  const faults = faultLines(run, m);
  if (faults.length) lines.splice(4, 0, ...faults);
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

/** What the scenario's faults did: the kills, the silent store, the refused sender, the poison. */
function faultLines(run: ScenarioOutcome["run"], m: ScenarioOutcome["metrics"]): string[] {
  const from = (t: number) => round(Math.max(0, t - run.startedAt) / 1000);
  const lines: string[] = [];
  if (run.spec.kills) {
    const k = m.kills;
    const list = k.reports
      .map(
        (r) =>
          `${from(r.kill.at)} s (slot ${r.kill.slot}, ${r.kill.ids.length} records, ${r.unsent} unsent, ${r.duplicates} duplicated${r.kill.duringInit ? ", in its init" : ""}${r.toDeliveryMs === undefined ? "" : `, delivered ${Number.isFinite(r.toDeliveryMs) ? `${round(r.toDeliveryMs / 1000)} s after` : "never"}`})`,
      )
      .join("; ");
    lines.push(
      `- Kills: ${k.kills} containers SIGKILLed mid-invocation (${run.killsMissed} more drawn came after their invocation ended): ${list || "none"}.`,
    );
  }
  const st = run.store;
  const trips = [...st.roundTripsMs].sort((a, b) => a - b);
  const trip = (p: number) =>
    Math.round(trips[Math.min(trips.length - 1, Math.floor(p * trips.length))] ?? 0);
  lines.push(
    `- DynamoDB (the containers' AWS_ENDPOINT_URL_DYNAMODB, a proxy to moto's): ${st.silentFrom !== undefined ? `silent from ${from(st.silentFrom)} s` : "never silent"}; ${st.connections} connections${st.silentFrom !== undefined ? `, ${st.silentConnections} of them held unanswered, ${st.swallowedWrites} writes swallowed` : ""}; ${trips.length} requests answered${trips.length ? `, in ${trip(0.5)} ms (median), ${trip(0.9)} ms (90th percentile), ${trip(1)} ms at most` : ""}.`,
  );
  if (run.senderRefused) {
    lines.push(
      `- Sender refused from 0 s to ${from(run.senderRefused.to)} s: ${m.senderRefusals} MAIL FROM answered \`${run.spec.senderRefused?.reply}\`.`,
    );
  }
  if (run.spec.poison?.length) {
    lines.push(
      `- Poison records: notifications ${run.spec.poison.join(", ")}; dead-lettered: ${m.deadLetters.map((d) => `${d.notification} (${d.attributes.FailureCode ?? "no FailureCode"})`).join(", ") || "none"}.`,
    );
  }
  return lines;
}
