/** BENCHMARKS.md: the table of the last run, how it was measured, and what did not work. */
export function report(table: string, machine: string, rounds: number, sizesTable = ""): string {
  return `# Benchmarks

Written by \`npm run bench\` (\`test/bench/run.ts\`); last run on ${machine}. Every figure is a
ratio against a baseline measured in the same run on the same machine (these machines are shared
and noisy), medians of interleaved runs (${rounds} cold-start rounds). Everything talks to
127.0.0.1 only: moto_server for SSM (through a counting proxy), \`smtp-server\` for SMTP (it waits
100 ms before its greeting, as many MTAs do), a local HTTP server for the bulletin feed. Rows
marked "N ms RTT" put a delaying TCP proxy (\`test/bench/latency-proxy.ts\`, Nagle off on both
sides, half the round trip each way, one round trip for the connection) in front of SSM and
SMTP (\`BENCH_RTT_MS\`, default \`0,20\`).

${table}
${
  sizesTable
    ? `
## At Lambda's CPU share (BENCH_LAMBDA_SIZES=1)

Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB. Each function's
process (only it; the servers stay unlimited) ran in a cgroup with that share of one CPU
(\`test/bench/cpu-share.ts\`): its first invocation, as above, and for send-notification a
10-record batch in a warm container (the mean of six, the first including the settings load and
the SMTP connection), priced at Lambda's arm64 rate ($0.0000133334 a GB-second, $0.20 a million
requests, us-east-1). **deployed**: the size the stack deploys
(\`infra/constructs/email-function.ts\`), the cheapest whose first invocation stayed under one
second for every function in the runs until 2026-11-25 (at 256 MB, send-notification and the connection
test land either side of a second from run to run). These are absolute times, and this shared
machine's speed changes from day to day: on 2026-12-06 it ran about a third slower (raw
nodemailer's pooled throughput 922 msg/s, against 1,397 on 2026-11-25), and the alert check's
first invocation at 512 MB went over a second; the code before issue 17, measured beside this
code in one interleaved run at 512 MB (11 rounds), took as long (this code 1.02x; send-notification
0.99x and the connection test 1.04x over 5 rounds).

${sizesTable}
`
    : ""
}
## How each figure is measured

1. **Cold start.** The stack's three functions are bundled by the function CDK's bundling calls
   (\`bundleFunction\` in \`infra/bundling.ts\`). A fresh Node process imports a bundle
   and serves its first invocation (settings from moto_server, a real message to the SMTP
   server, for the alert check a real bulletin), timed from spawn to exit. Baselines, bundled
   with the same options: *the obvious bundle*, the same handler plus the full SSM client,
   nodemailer, zod and middy imported eagerly at top level, its settings read as the obvious
   implementation reads them (the SDK's \`GetParametersByPath\` over the folder, page after page:
   \`test/bench/obvious/sdk-settings.ts\`; until this run it borrowed the product's own parallel
   \`GetParameters\`, which flattered it) and no cold-start overlap; and an empty handler. The
   settings folder holds what importing config.json's EmailSettings leaves there: 11 parameters
   (14 for the submission server), two pages. The product runs as deployed with \`emailSettings.SMTPServer\` in context
   (\`SMTP_PRECONNECT\` set). "Split vs one file" compares the deployed shape (one file) with
   the function code-split into a chunk that the entry imports after starting the I/O.
   Rows marked STARTTLS+AUTH send through a submission server instead: STARTTLS with a
   certificate signed by the run's CA (verified; the processes get the CA through
   \`NODE_EXTRA_CA_CERTS\`), AUTH PLAIN required, PIPELINING, and \`530 5.7.0\` for MAIL before
   STARTTLS, as a provider's port 587.
1a. **Round trips on the critical path.** How many round trips a first invocation of
   send-notification waits for, one after another: the time a round trip of R ms added to it
   (same run, medians at R and at 0 ms), divided by R. The CPU's work is the same at both, so it
   cancels; round trips that overlap count once. The protocol's floor, against these servers, with
   the SMTP server known at deploy time (\`ROUND_TRIP_FLOOR\` in \`test/bench/cold-start.ts\`):
   - the settings' SSM read is 2 round trips (connect; then both \`GetParameters\` calls at once,
     over two connections), and runs during the SMTP server's 100 ms greeting delay, which is
     longer than those 2 round trips at 20 ms (1 round trip + 100 ms > 2 round trips): it is off
     the critical path;
   - plain: connect and greeting 1, \`EHLO\` 1, \`MAIL FROM\` + \`RCPT TO\` + \`DATA\`
     pipelined 1, the message and its final dot 1: **4**;
   - STARTTLS+AUTH: connect and greeting 1, \`EHLO\` 1, \`STARTTLS\` 1, the TLS 1.3 handshake 1
     (the client's Finished travels with the next \`EHLO\`), \`EHLO\` 1, \`AUTH PLAIN\` with its
     initial response 1 (RFC 4954 does not let it be pipelined), then the same 2: **8**.
   The obvious implementation reads the settings first (the SDK's connection, then its requests)
   and only then connects, so the whole SSM read and the whole SMTP dialogue follow one another.
2. **Warm send.** One SQS record through the warm handler (settings cached, SMTP session kept),
   against raw nodemailer (\`pool: true\`, one connection) sending the same message over its
   already-open connection; 300 interleaved pairs.
3. **Batch throughput.** 1,000 notifications in 10-record batches through the bundled
   send-notification handler in one process (one warm container), against raw nodemailer pooled
   over the same number of connections, and against one connection per message (what the
   reference server does; a sample of 30 gives its rate). Pool sizes 1 and 3
   (\`NOTIFICATION_POOL_SIZE\`).
4. **SSM calls.** Requests reaching moto_server over 1,000 warm invocations within the cache
   time, then 1,000 more after it expired. One load is two requests, sent at once:
   \`GetParameters\` for the fifteen parameter names, at most ten a call.
5. **Peak memory.** Peak resident memory, sampled every 2 ms inside the process that served the
   throughput run, and inside processes serving the other two functions (getrusage's maxRSS
   cannot be used: on Linux it keeps the size of the parent from before exec), with the heap capped as a 128 MB function needs
   (\`--max-semi-space-size=4 --max-old-space-size=100\`): V8 sizes its young generation from the
   machine's memory, and on this 24 GiB machine it takes 16 MiB semi-spaces that no 128 MB
   Lambda gets. The uncapped figure is in the table too.
6. **Connection-test verdicts.** The handler answering for a refused port, and for a host that
   accepts TCP and never greets with SMTPServerTimeout 1 s.
8. **OAuth2 (issue 17).** send-notification's first invocation signing in with XOAUTH2
   (\`oauth2-microsoft\` with a client secret, the section and the secret in SSM as deployed) at a
   submission server that takes only the token endpoint's tokens (STARTTLS verified, 100 ms
   greeting), the token endpoint over HTTPS (\`local/token-endpoint.ts\`, real JWTs). The token
   endpoint and the SMTP server sit behind latency proxies of R ms (\`BENCH_SIGNIN_RTT_MS\`,
   default 30: "tens of milliseconds away"); SSM stays near, as in a region. The baseline, *the
   obvious implementation* (\`test/bench/obvious/send-notification-oauth2.ts\`): MSAL
   (\`@azure/msal-node\`), the SSM client, nodemailer, zod and middy imported eagerly; the settings
   read with \`GetParametersByPath\`; then the token (\`acquireTokenByClientCredential\`, MSAL given
   the authority's metadata so it skips its discovery request: flattering the baseline), then
   nodemailer's transport with \`auth: { type: "OAuth2", user, accessToken }\`. Round trips on the
   critical path as in 1a; the floor is the STARTTLS+AUTH floor, 8 (\`AUTH XOAUTH2\` with its
   initial response is one round trip, as \`AUTH PLAIN\`): the token's 3 round trips (TCP, TLS 1.3,
   the request) start when the settings are read, with the connection's opening, and are done
   before AUTH asks (the connection's EHLO, STARTTLS, handshake and EHLO take 4). The obvious
   implementation fetches the token, then connects. The same at Lambda's CPU share of the deployed
   memory (512 MB, \`cpu-share.ts\`).
9. **SES's API (issue 17).** send-notification with Transport \`ses\` sending through the run's
   moto_server (its sender's domain a verified identity): its first invocation against the obvious
   \`@aws-sdk/client-sesv2\` implementation (\`test/bench/obvious/send-notification-ses.ts\`: the
   same handler, the SDK's SESv2Client and SendEmailCommand, the SSM client, nodemailer, zod and
   middy imported eagerly, the settings read with \`GetParametersByPath\`), on the full CPU and at
   the deployed memory's CPU share; and a warm 10-record batch (the mean of ten batches after the
   first, median of three processes) against calling the SDK directly
   (\`test/bench/warm-child.mjs\`: each message composed by nodemailer's MailComposer, then
   \`SendEmailCommand\`, one after another, as the product's pool of one sends). The lite REST-JSON
   client (\`lib/aws/json-client.ts\`) is used rather than the SDK: measured here, the SDK's client
   is what makes the obvious bundle's first invocation slow, and its middleware stack what makes
   its warm sends slower.
10. **Metrics in EMF (issue 20).** Two Lambda-like entries (\`test/bench/metrics-emf/\`), bundled
   by \`bundleFile\` with the functions' options, publish one batch's metrics, the names, the
   dimension set and the \`Transport\` property send-notification publishes (a batch meeting every
   outcome: 7 counts and 3 latency lists): one through \`lib/metrics\` (\`createMetricsPublisher\`), one
   through Powertools Metrics (\`new Metrics({ namespace, serviceName })\`, its default \`service\`
   dimension replaced by \`Function\`, \`addMetadata\` for the transport, \`addMetric\` per value,
   \`publishStoredMetrics\`). An empty handler is the floor. A fresh Node process imports the bundle
   and calls the handler once, timed from spawn to the EMF line on its stdout, and inside the
   process from its first statement to the handler's answer; interleaved, at least 31 rounds
   (\`BENCH_METRICS_ROUNDS\`), on the full CPU and at the deployed memory's CPU share. Both lines are
   read as CloudWatch reads them (\`test/helpers/emf.ts\`) and must give the same datapoints.

## What made the difference, and what did not

- **The bundle's size is the cold start.** V8 parses and compiles the whole single-file bundle
  before the first statement runs: about 60 ms for the first 1.1 MB bundle, a quarter of a cold
  start, during which no I/O can begin.
- **The AWS SDK is out of the bundles.** In Lambda the credentials are in the environment, so
  the settings are read by a small SigV4-signed client (\`lib/aws-ssm/client.ts\`, its
  signature tested against the SDK's signer). The SDK stays the fallback elsewhere, imported
  dynamically, and is external to the bundle (the nodejs24.x runtime provides it).
- **Cold-start I/O starts at once, together.** Each function's entry opens the SMTP connection
  (the \`SMTP_PRECONNECT\` hint the stack derives from context) and starts the settings read
  before the handler is first called (\`functions/cold-start.ts\`), so the server's greeting
  delay and the SSM read overlap each other and the handler's set-up; node:http is imported only
  when the first SSM request goes out (it alone takes about 25 ms to load).
- **Overlapping the I/O with parsing the code was not worth a second file.** Until this run each
  function was a tiny entry that started the I/O and a \`main.mjs\` beside it, built by a second
  esbuild call with its own copy of the options and handing sockets over through \`globalThis\`
  slots. Measured against the same function as one file (the "split vs one file" rows, the
  function code-split into a chunk imported after the I/O has started): 1.00x to 1.02x at 0 and
  20 ms round trips, on a full CPU. Lambda gives a 256 MB function about 0.15 of a CPU, where
  the CPU dominates a first invocation and the split gained nothing either (1.10 s both ways).
  So each function is one file, and the split is kept only as the benchmark's alternative.
- **Where the cold start now stands.** The product's first invocation is Node's start, the
  bundle's load, the test server's 100 ms greeting delay and the SMTP dialogue: the SSM read is
  hidden behind the greeting, and the dialogue takes the protocol's floor in round trips (1a).
  The obvious bundle pays its import and its paged SSM read first, then the same greeting and
  dialogue. What the product still spends on its own is CPU: a --cpu-prof of a first invocation
  found 11 to 12 ms in undici, loaded only because an ES import of \`node:http\` reads its
  \`WebSocket\` export to build a facade; the bundles now take built-ins through
  \`process.getBuiltinModule\` (\`infra/bundling.ts\`), and importing a bundle went from about
  40 to about 30 ms.
- **Kept SMTP sessions.** A warm container reuses its SMTP session (\`SMTP_KEEPALIVE_SECONDS\`,
  30 s) instead of paying connect, TLS, AUTH and the greeting delay on every batch; a session
  idle longer than 2 s is probed with RSET first. Without it, warm sends cost a new connection
  each and throughput was a fraction of raw pooled.
- **zod/mini.** Full zod was 450 KB of the 650 KB left once the SDK was out: its chained API
  cannot be tree-shaken. Every schema the functions bundle is written against \`zod/mini\`
  (24 KB once tree-shaken). One trap: re-exporting the \`z\` namespace from a shared module
  defeats tree-shaking (432 KB again), so each module imports \`zod/mini\` itself.
- **Lazy \`import()\` of bundled modules helps only with code splitting:** without it esbuild
  puts them in the same file, which is parsed anyway. The bundles are code-split for that alone:
  html-to-text (about 200 KB with its parser, needed only for a notification with HTML and no
  text) and the AWS SDK fallback are chunks of their own, parsed only when used.
- **\`--enable-source-maps\` costs about 7 ms of a cold start** (3 to 4 %), so the stack leaves
  it to the operator; the maps ship in the bundle.
- **Warm send and throughput against raw nodemailer:** building the MIME message (nodemailer's
  MailComposer, about 160 µs) is the same on both sides; what remains is the handler's own work
  per record and per batch (validation, partial-batch bookkeeping, the deadline check, stage
  tracking and structured logs). See the table for where that leaves each goal.

## Metrics: EMF by hand or Powertools

Issue 20 asked whether Powertools Metrics (\`@aws-lambda-powertools/metrics\` 2.36.0) costs the
cold start anything that matters; the team's rule is a well-kept library unless a benchmark shows
it costs what matters. Measured by step 10 (\`BENCH_ONLY=metrics npm run bench\`) on 2 × Intel Xeon,
Node 24.21.0, 2026-12-06, the machine busy with other work (load 3 to 7), runs of 31 and 61 rounds:

- **The same line.** Both give CloudWatch the same 10 datapoints under \`Function\` and the same
  \`Transport\` property. Powertools needs its default \`service\` dimension cleared to get there:
  left in, it is in every dimension set, and the metrics would be others than the dashboard and
  the alarms read.
- **Bundle: 17.6 KiB against 2.6 KiB, +15.0 KiB** (Metrics and its commons; about 5 % of
  send-notification's 277 KiB).
- **Cold start on a full CPU: about +5 ms.** Inside the process (the bundle's import and the
  first publish; Node's start, whose noise would swamp a few ms, left out), 11.9 ms against
  7.0 ms, +4.1 ms the median of the paired rounds (+3.7 to +5.7 ms in every run while the step
  was written). From spawn to the EMF line, 66.6 ms against 62.0 ms, +5.6 ms (+3.1 to +5.6 ms).
  The time goes to loading Powertools' code (about 1.3 ms), its constructor (about 1 ms, more
  when it is first to open \`process.stderr\` for the \`Console\` of its own) and a first publish
  about 1.3 ms slower.
- **At the deployed memory: about +15 ms, estimated.** 512 MB gets 0.29 of a vCPU: scaled by
  1,769 / 512, 4 to 6 ms of CPU are 14 to 20 ms, about 2 % of send-notification's first
  invocation at 512 MB (695 ms in the last sizes run). Measured in a cgroup with that share (as
  in "At Lambda's CPU share"), the means of the paired rounds from spawn to the line were +1, +10
  and +20 ms in three runs: the share is granted in 100 ms periods, so a few ms more CPU either
  still fit in a period or wait about 70 ms for the next, and 31 to 61 rounds do not settle how
  often they wait (the step's rows report the mean beside the median for that reason). The
  estimate is the figure to go by.

**Decision: the hand-written module stays.** Powertools costs less than 20 KiB, but about 5 ms on
a full CPU (at the bar of 5 ms set for this decision) and about three times that at the memory
the stack deploys, for a line \`lib/metrics\` already writes in about a hundred lines, checked by
a strict EMF reader in its tests; \`--enable-source-maps\` was left to the operator for 7 ms on
the same ground. Step 10 measures it
again on every run: a Powertools release that loads less, or the product taking up another
Powertools utility (whose commons it would then share), is when to look again.

## Reproduce

\`\`\`sh
npm ci
npm run bench          # BENCH_ROUNDS=11 npm run bench for more cold-start rounds
BENCH_ONLY=metrics npm run bench   # step 10 alone (EMF by hand or Powertools); prints, writes nothing
\`\`\`

Needs \`moto_server\` on PATH, like the tests.
`;
}
