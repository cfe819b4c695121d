/**
 * docs/load-test.md, written by run.ts from a run: the tables (report.ts), what each goal means,
 * the scenarios as defined (scenarios.ts, all of them, run or not), how everything is measured,
 * and each scenario's details.
 */
import { goalsTable, type ScenarioOutcome, scenarioDetails, summaryTable } from "./report.ts";
import type { ScenarioSpec } from "./spec.ts";

export function loadTestDoc(options: {
  outcomes: readonly ScenarioOutcome[];
  /** Every scenario defined, for the list of scenarios. */
  scenarios: readonly ScenarioSpec[];
  machine: string;
  overrides: string[];
  failures: string[];
  /** moto's SQS retention check made cheap (moto-fast.ts). */
  motoFast: boolean;
}): string {
  const { outcomes, scenarios, machine, overrides, failures, motoFast } = options;
  const ran = outcomes.map((o) => o.run.spec.id).join(", ") || "none";
  return `# Load test

Written by \`npm run load\` (\`test/bench/load/run.ts\`); last run on ${machine}, scenarios ${ran}${
    overrides.length ? `, **with overrides: ${overrides.join(", ")}** (not the scenarios as defined)` : ""
  }. \`LOAD_SCENARIO=a\` (or \`a,d\`) runs some of them. Everything runs on 127.0.0.1.

${outcomes.length ? summaryTable(outcomes) : "(no scenario finished)"}
${failures.length ? `\nScenarios that did not run to the end: ${failures.join("; ")}\n` : ""}
## Goals

${outcomes.length ? goalsTable(outcomes) : ""}

- **0 lost**: every notification delivered or in the dead-letter queue.
- **0 in the dead-letter queue**: throttling, outages, a silent DynamoDB, kills and settings
  refusals are transient; only a notification that can never succeed belongs there. In h, exactly
  the poison records, put there by the function at once with \`FailureCode\`
  \`InvalidMessageError\` and a \`FailureReason\`.
- **Peak rate never above the limit** (when the stack knows the limits): the provider never
  refused for rate (no 454), and what the fleet offered over the busiest 10 s stayed within what
  the provider's own bucket allows (limit + burst ÷ 10).
- **Total time ≤ 1.25 × ideal** once the limit is known (the function knows its share from the
  start): ideal is count ÷ limit, plus the outage or the sender's refusal where there is one. In
  g, plus the back-off's cap (60 s × 1.25: a record refused just before the relay was fixed may
  wait that long); in i, 1.5 × (the stack knows no limit); in j, 1.1 ×; in d, reported only.
- **Duplicates 0, or each explained by an at-least-once window**: a message sent, then delivered
  again because its success did not reach SQS (reported failed, the invocation failed, its
  delete failed, or its visibility ran out while it was still being sent).
- **The fault happened**: at least one kill (d), a connection or request the silent DynamoDB
  left unanswered (e, f), a MAIL FROM refused (g): a scenario whose fault never struck proves
  nothing.
- **Duplicates per kill ≤ the sessions in flight** (d): a record of the killed batch accepted
  during the killed invocation (up to a second after the kill, for a final dot already sent) and
  accepted again later. The function deletes each record once the server accepted it
  (\`lib/notifications/in-flight.ts\`), so a kill can repeat only what its sessions were sending
  (the pool) and what was accepted in the delete's last round trip.
- **A kill's unsent records delivered within 120 s of it** (d): for each kill, from the kill to
  the delivery of the last record of its batch that the provider had not accepted before it; the
  function holds a running batch's records 60 s at a time, so they come back within a minute. A
  kill in a container's init comes before the function has its batch: only the queue's
  visibility timeout brings that back (the function's timeout, the least Lambda accepts; it was six
  times that, 13 minutes, until such a kill was seen), so its goal is that timeout + 20 s.

## The scenarios

${scenarios.map((s) => `- **${s.id}** (${s.title}): ${s.description ?? ""}`).join("\n")}

## How it is measured

- **SQS**: moto_server's real SQS API (JSON protocol), started by the tests' startMoto with ${
    motoFast ? "two changes" : "one change"
  } (\`test/bench/load/moto-fast.ts\`): each delete runs under the queue's own lock (moto rebuilds the message list from a copy for a delete, so two at once, the function's own and the poller's, could bring back a message one of them deleted, which came back after its visibility and was sent again: a duplicate real SQS never makes)${
    motoFast
      ? ", and the retention check of every message a receive returns reads the one attribute it needs, instead of computing every queue attribute (a pass over all messages each), which made a receive from a queue of 2,000 take about a second and set the pace instead of the function; same answers"
      : "; its receive is as it is (LOAD_MOTO_FAST=0): a receive from a queue of 2,000 takes about a second, which may set the pace instead of the function"
  }. The notification queue and its
  dead-letter queue are created as the stack creates them: redrive after
  \`RETRY_POLICY.receiveLimit\` receives, a visibility timeout of the function's timeout
  (\`queueVisibilitySeconds(sendNotificationTimeoutSeconds(T, batchSize, poolSize, rate))\`,
  \`infra/sizing.ts\`, as the stack sizes them). The settings are in moto's SSM under a root of the run's own.
- **The function**: send-notification bundled by \`bundleFunction\` (what CDK deploys), run in
  separate long-lived Node processes, one per concurrent invocation (a Lambda container: started
  by its first invocation, kept warm, serving one invocation at a time, killed and replaced at its
  timeout), each with the function's environment only: test credentials, \`AWS_ENDPOINT_URL\` at
  moto, \`SETTINGS_PATH\`, \`NOTIFICATION_QUEUE_URL\`, \`DEAD_LETTER_QUEUE_URL\`,
  \`NOTIFICATION_POOL_SIZE\` and \`SEND_RATE_PER_SECOND\` from
  \`deriveSendLimits({ maxSendRate, maxConnections }, notificationPoolSize)\` (whose
  maxConcurrency sets the concurrency; \`deriveSendLimits({})\` in i), the fleet's send schedule
  (\`SEND_SCHEDULE_TABLE\`, a table in moto's DynamoDB, in every deployment, and
  \`FLEET_SEND_RATE_PER_SECOND\` and \`FLEET_MAX_CONNECTIONS\`, the limits, when the stack
  knows them), \`LOG_LEVEL=warn\`.
  \`AWS_ENDPOINT_URL_DYNAMODB\` points at a TCP proxy on 127.0.0.1 (\`faults.ts\`) that passes
  to moto's DynamoDB and times each request's round trip (the send schedule's, on every paced
  send's path: each scenario's details report it); in e and f it falls silent (from the start,
  or halfway): from then on it accepts connections and never answers, and the connections it had
  go quiet (nothing passes, nothing closes).
- **Kills** (d, \`faults.ts\`): each invocation draws its kill by the chance; the moment is a
  uniform fraction of a typical invocation's length (the running mean of those that ended well),
  and an invocation that ends first is not killed, so there are somewhat fewer kills than the
  chance says; each is counted. The container process gets SIGKILL; the poller fails that
  invocation as Lambda does (nothing deleted, the batch left to the visibility the function set)
  and the next invocation in that slot starts a new container (a cold start).
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
  both, and two concurrent deletes can bring back a message one of them deleted). Without
  maxConcurrency (i), slots start as Lambda scales an SQS event source (5 at once, then 300 more a
  minute, [AWS](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)), up to
  one per batch the queue holds at the start (\`LOAD_CONCURRENCY\` lowers it), and poll short
  (a slot that found nothing waits 50 ms × the slots before asking again): with 60 slots, long
  polls of a second one at a time would hold each slot's receives up for a minute.
- **The provider**: \`smtp-server\` with the product's provider hooks (\`local/smtp-limits.ts\`):
  a token bucket of the limit's rate holding a second's worth (SES's
  \`454 Throttling failure: Maximum sending rate exceeded.\` at MAIL FROM), a connection limit
  (Postfix's \`421 4.7.0 Error: too many connections from …\` at the greeting), the outage switch,
  and in g a relay refusing the sender (every MAIL FROM answered \`553 5.7.1 …\` before the
  rate's bucket, so a refusal costs no token).
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
  against count ÷ limit (plus the outage or the sender's refusal). A scenario gives up at 3 × that
  ideal, or 10 minutes past it if sooner (3 minutes at least), and reports what it has then (time
  marked ≥, records still queued counted as lost).

## Details of the last run

${outcomes.map(scenarioDetails).join("\n\n")}
`;
}
