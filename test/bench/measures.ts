/**
 * Measures 2 to 6 of the benchmark: warm send, batch throughput and peak memory, SSM calls,
 * connection-test verdict times. Each against a baseline measured in the same run.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import nodemailer from "nodemailer";
import { createHandler as connectionTestHandler } from "../../functions/connection-test.ts";
import { createHandler as alertHandler } from "../../functions/security-alert-check.ts";
import { createHandler as sendHandler } from "../../functions/send-notification.ts";
import { htmlToText } from "../../lib/smtp/index.ts";
import { freePort } from "../helpers/ports.ts";
import { startSilentServer } from "../helpers/smtp-server.ts";
import type { BenchBundles } from "./bundles.ts";
import type { CpuLimit } from "./cpu-share.ts";
import type { BenchWorld } from "./fixtures.ts";
import { median } from "./stats.ts";

const noLogs = () => {};
const context = () =>
  ({ awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 900_000 }) as never;
export const MESSAGE = {
  to: "user@bench.example",
  subject: "Benchmark",
  html: "<p>You were <b>mentioned</b>.</p>",
};

/**
 * What raw nodemailer sends as "the same message": the MIME our handler produces for MESSAGE
 * (text part from the HTML, the reference's headers), so both sides build the same bytes.
 */
let rawSeq = 0;
const MESSAGE_TEXT = await htmlToText(MESSAGE.html);
const rawMessage = () => ({
  from: { name: "Bench", address: "noreply@bench.example" },
  to: MESSAGE.to,
  subject: MESSAGE.subject,
  text: MESSAGE_TEXT,
  html: MESSAGE.html,
  replyTo: { name: "Bench", address: "test@example.com" },
  messageId: `<raw-${++rawSeq}@bench.example>`,
  headers: { "Auto-Submitted": "auto-generated", Precedence: "bulk" },
});
const sqs = (n: number, prefix: string) => ({
  Records: Array.from({ length: n }, (_, i) => ({
    messageId: `${prefix}-${i}`,
    body: JSON.stringify(MESSAGE),
    attributes: { ApproximateReceiveCount: "1" },
  })),
});

/** 2. One warm SQS record through the handler, against raw nodemailer over an open connection. */
export async function warmSend(world: BenchWorld, rounds = 300) {
  const handler = sendHandler({ env: world.env, write: noLogs });
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: world.smtp.port,
    pool: true,
    maxConnections: 1,
    secure: false,
    ignoreTLS: true,
  });
  const raw = () => transport.sendMail(rawMessage());
  await handler(sqs(1, "warmup") as never, context()); // settings loaded, session kept
  await raw();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const result = (await handler(sqs(1, `w${i}`) as never, context())) as { batchItemFailures: unknown[] };
    ours.push(performance.now() - t);
    if (result.batchItemFailures.length) throw new Error("warm send failed");
    t = performance.now();
    await raw();
    theirs.push(performance.now() - t);
  }
  transport.close();
  return { oursMs: median(ours), rawMs: median(theirs) };
}

/**
 * V8 sizes its young generation from the machine's memory: on this 24 GiB machine, 16 MiB
 * semi-spaces no 128 MB Lambda would get. Memory runs cap the heap as a 128 MB function needs.
 */
export const LAMBDA_128_HEAP = ["--max-semi-space-size=4", "--max-old-space-size=100"];

export function batchChild(
  bundle: string,
  invocations: number,
  batch: number,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  limit?: CpuLimit,
) {
  const child = fileURLToPath(new URL("batch-child.mjs", import.meta.url));
  const args = [...nodeArgs, child, bundle, String(invocations), String(batch)];
  const [command, argv] = limit ? limit.wrap(process.execPath, args) : [process.execPath, args];
  return new Promise<{ ms: number; maxRssKb: number; failures: number }>((resolve, reject) => {
    const p = execFile(command, argv, { env, timeout: 600_000 }, (e, out, err) =>
      e
        ? reject(new Error(`${e.message}\n${err}`))
        : resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}")),
    );
    p.stdin?.end(JSON.stringify(MESSAGE));
  });
}

/**
 * 3 and 5. 1,000 notifications in 10-record batches through the bundled handler in one process
 * (its peak RSS is measure 5), against raw nodemailer pooled over the same number of connections,
 * and against one connection per message (what the reference server does), on a server that
 * pauses before its greeting.
 */
export async function throughput(bundles: BenchBundles, world: BenchWorld, poolSize: number, total = 1000) {
  const env = {
    ...world.env,
    NOTIFICATION_POOL_SIZE: String(poolSize),
    SMTP_PRECONNECT: `127.0.0.1:${world.smtp.port}`,
  };
  const ours = await batchChild(bundles.product["send-notification"].path, total / 10, 10, env);
  if (ours.failures) throw new Error(`${ours.failures} notifications failed in the throughput run`);
  const capped = await batchChild(
    bundles.product["send-notification"].path,
    total / 10,
    10,
    env,
    LAMBDA_128_HEAP,
  );
  if (capped.failures) throw new Error(`${capped.failures} notifications failed in the capped-heap run`);

  const pooled = nodemailer.createTransport({
    host: "127.0.0.1",
    port: world.smtp.port,
    pool: true,
    maxConnections: poolSize,
    maxMessages: Infinity,
    secure: false,
    ignoreTLS: true,
  });
  let t = performance.now();
  await Promise.all(Array.from({ length: total }, () => pooled.sendMail(rawMessage())));
  const pooledMs = performance.now() - t;
  pooled.close();

  // One connection per message, sequential: 100 ms greeting each, so a sample of 30 gives the rate.
  const sample = 30;
  t = performance.now();
  for (let i = 0; i < sample; i++) {
    const fresh = nodemailer.createTransport({
      host: "127.0.0.1",
      port: world.smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    await fresh.sendMail(rawMessage());
    fresh.close();
  }
  const perConnectionMsPerMessage = (performance.now() - t) / sample;
  return {
    oursMsPerMessage: ours.ms / total,
    pooledMsPerMessage: pooledMs / total,
    perConnectionMsPerMessage,
    peakRssMb: capped.maxRssKb / 1024,
    uncappedPeakRssMb: ours.maxRssKb / 1024,
  };
}

/** 5, the other two functions: peak RSS of a process serving a few invocations of each. */
export async function otherPeakMemory(bundles: BenchBundles, world: BenchWorld) {
  const { runChild, testEndpointEvent } = await import("./cold-start.ts");
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "bench-mem-"));
  const http = join(dir, "http.json");
  writeFileSync(http, JSON.stringify(testEndpointEvent()));
  const sched = join(dir, "sched.json");
  writeFileSync(sched, "{}");
  world.feed.bulletins.push({ id: "MEM-1", applies_to_version: "8.0.0" });
  world.feed.html["MEM-1"] = "<p>Upgrade.</p>";
  const test = await runChild(bundles.product["connection-test"].path, http, world.env, LAMBDA_128_HEAP);
  const alert = await runChild(
    bundles.product["security-alert-check"].path,
    sched,
    { ...world.env, APP_VERSION: "8.0.0" },
    LAMBDA_128_HEAP,
  );
  return { connectionTestMb: test.maxRssKb / 1024, alertMb: alert.maxRssKb / 1024 };
}

/** 4. Requests reaching SSM over 1,000 warm invocations inside the cache time, and after it. */
export async function ssmCalls(world: BenchWorld) {
  // The alert check with alerts off does nothing but load its settings: only SSM traffic counts.
  const { PutParameterCommand } = await import("@aws-sdk/client-ssm");
  const { createSsmClient } = await import("../../lib/aws-ssm/sdk-client.ts");
  const admin = createSsmClient({
    endpoint: world.moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const root = `${world.root}-ssm`;
  await admin.send(
    new PutParameterCommand({
      Name: `${root}/EmailSettings/EnableSecurityFixAlert`,
      Value: "false",
      Type: "String",
    }),
  );
  const handler = alertHandler({
    env: { ...world.env, SETTINGS_PATH: root, SETTINGS_CACHE_SECONDS: "2" },
    write: noLogs,
  });
  world.ssm.reset();
  for (let i = 0; i < 1000; i++) await handler({}, context());
  const within = world.ssm.count();
  await new Promise((r) => setTimeout(r, 2_100));
  for (let i = 0; i < 1000; i++) await handler({}, context());
  return { withinCache: within, afterExpiry: world.ssm.count() - within };
}

/** 6. Connection-test verdicts: a refused port, and a host that accepts TCP and never greets (T = 1 s). */
export async function verdictTimes(world: BenchWorld, rounds = 7) {
  // The bench's servers are on ports of their own: any port may be tested.
  const handler = connectionTestHandler({ env: { ...world.env, TEST_ALLOWED_PORTS: "*" }, write: noLogs });
  const call = async (settings: Record<string, unknown>) => {
    const t = performance.now();
    const res = (await handler(
      {
        version: "2.0",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ settings }),
        isBase64Encoded: false,
        requestContext: { http: { method: "POST" } },
      } as never,
      context(),
    )) as { body: string };
    const ms = performance.now() - t;
    return { ms, json: JSON.parse(res.body) as { ok: boolean; error?: { stage: string } } };
  };
  await call({}); // settings loaded
  const refusedPort = await freePort();
  const silent = await startSilentServer();
  const refused: number[] = [];
  const silentMs: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const r = await call({ SMTPPort: refusedPort });
      if (r.json.error?.stage !== "connect") throw new Error(`refused port: ${JSON.stringify(r.json)}`);
      refused.push(r.ms);
      const s = await call({ SMTPPort: silent.port, SMTPServerTimeout: 1 });
      if (s.json.error?.stage !== "greeting") throw new Error(`silent host: ${JSON.stringify(s.json)}`);
      silentMs.push(s.ms);
    }
  } finally {
    await silent.close();
  }
  return { refusedMs: median(refused), neverGreetsMs: median(silentMs) };
}
