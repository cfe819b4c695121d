/**
 * The docs' examples against a deployed stack, run exactly as written: every code block marked
 * `<!-- aws-example -->` in docs/, each as one bash script (`set -euo pipefail`) from the
 * project's folder, with the AWS CLI and `npx mm-email` pointed at moto, where a stack named as
 * the docs name it (MattermostEmail, the default) stands with its queues, its settings and
 * send-notification's log group holding what the real function logged for the docs' example id.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler } from "../../functions/send-notification.ts";
import { DEFAULT_STACK_NAME } from "../../infra/outputs.ts";
import { type LocalProduct, startLocalProduct } from "../../local/product.ts";
import { deployedStack } from "../cli/fixture.ts";
import { captureLogs, lambdaContext, sqsEvent, sqsRecord } from "../helpers/lambda.ts";
import { startSmtpServer } from "../helpers/smtp-server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The id docs/operations.md traces. */
const TRACED = "4f6c2a9e-0b1d-4c3e-9f5a-6b7c8d9e0f1a";
const NEW_SMTP_PASSWORD = "rotated-Pa55-7d1c";

function awsExamples(): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const file of readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(root, "docs", file), "utf8");
    for (const match of text.matchAll(/<!-- aws-example -->\n```sh\n([\s\S]*?)```/g))
      found.push([`docs/${file}`, match[1] as string]);
  }
  return found;
}

let stack: Awaited<ReturnType<typeof deployedStack>>;
let local: LocalProduct;
let env: Record<string, string>;

beforeAll(async () => {
  // The stack's test endpoint is a local run's (the connection-test handler, as deployed).
  local = await startLocalProduct({
    env: {},
    settingsFile: join(mkdtempSync(join(tmpdir(), "docs-aws-local-")), "settings.json"),
    log: () => {},
  });
  stack = await deployedStack({
    name: DEFAULT_STACK_NAME,
    sqsQueues: true,
    testEndpointUrl: `${local.url}/email/test`,
  });
  await stack.ssm.putSettings({
    SMTPServer: "127.0.0.1",
    SMTPPassword: "old-Pa55",
    FeedbackEmail: "noreply@chat.example",
  });
  // What the real function logged for the traced notification: one refusal, then sent.
  const busy = await startSmtpServer({
    rcptReplies: { "you@example.com": { code: 451, message: "4.3.0 Mailbox busy, try later" } },
  });
  const fine = await startSmtpServer();
  const logs = captureLogs();
  const note = sqsRecord(
    { to: "you@example.com", subject: "You were mentioned", text: "Hi" },
    { messageId: TRACED },
  );
  for (const [server, receiveCount] of [
    [busy, 1],
    [fine, 2],
  ] as const) {
    await stack.ssm.putSettings({ SMTPPort: String(server.port) });
    const handler = createHandler({
      env: { SETTINGS_PATH: stack.ssm.root },
      store: stack.ssm.store(),
      write: logs.write,
    });
    await handler(
      sqsEvent([
        { ...note, attributes: { ...note.attributes, ApproximateReceiveCount: String(receiveCount) } },
      ]),
      lambdaContext("send-notification"),
    );
  }
  await Promise.all([busy.close(), fine.close()]);
  const cwl = new CloudWatchLogsClient({ endpoint: stack.env.AWS_ENDPOINT_URL, region: "us-east-1" });
  await cwl.send(new CreateLogStreamCommand({ logGroupName: stack.logGroup, logStreamName: "docs" }));
  await cwl.send(
    new PutLogEventsCommand({
      logGroupName: stack.logGroup,
      logStreamName: "docs",
      logEvents: logs.lines.map((message, i) => ({ message, timestamp: Date.now() - 60_000 + i })),
    }),
  );

  // The reader's shell: AWS pointed at moto, no profile of this machine's, the new password set.
  const dir = mkdtempSync(join(tmpdir(), "docs-aws-"));
  writeFileSync(join(dir, "empty"), "");
  env = {
    PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}`,
    HOME: process.env.HOME ?? dir,
    AWS_CONFIG_FILE: join(dir, "empty"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "empty"),
    ...stack.env,
    AWS_DEFAULT_REGION: stack.env.AWS_REGION,
    NEW_SMTP_PASSWORD,
  };
}, 60_000);

/**
 * AWS CLI v1 sends SQS calls in us-east-1 to queue.amazonaws.com unless --endpoint-url is given
 * (AWS_ENDPOINT_URL is not enough there): before the block, aws is made to add it, nothing else.
 */
const AWS_AT_MOTO = 'aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }';

afterAll(async () => {
  await local?.stop();
});

const bash = (script: string, cwd = root) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      "bash",
      ["-c", `set -euo pipefail\n${AWS_AT_MOTO}\n${script}`],
      { cwd, env, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });

describe("the docs' AWS examples, as written", () => {
  const examples = awsExamples();

  it("are found: the first notification, putting one on the queue, tracing one, rotating the password", () => {
    expect(examples.map(([page, script]) => `${page}: ${script.split("\n")[0]}`)).toEqual([
      expect.stringMatching(/^docs\/deploy\.md: QUEUE=/),
      expect.stringMatching(/^docs\/operations\.md: QUEUE=/),
      expect.stringMatching(/^docs\/operations\.md: npx mm-email trace /),
      expect.stringMatching(/^docs\/operations\.md: printf /),
    ]);
  });

  it.each(examples)(
    "%s runs",
    async (_page, script) => {
      const { code, out } = await bash(script);
      expect(code, `${script}\n${out}`).toBe(0);
      if (script.includes("mm-email trace")) {
        expect(out).toMatch(/retry\s+1\s+127\.0\.0\.1:\d+\s+.*451 4\.3\.0 Mailbox busy/);
        expect(out).toMatch(/SENT at \S+ to 127\.0\.0\.1:\d+: 250/);
        expect(out).toMatch(new RegExp(`Notification ${TRACED}\\n`));
      }
      if (script.includes("settings set SMTPPassword")) {
        expect(out).not.toContain(NEW_SMTP_PASSWORD);
        const stored = await stack.ssm.client.send(
          new GetParameterCommand({
            Name: `${stack.ssm.root}/EmailSettings/SMTPPassword`,
            WithDecryption: true,
          }),
        );
        expect(stored.Parameter?.Value).toBe(NEW_SMTP_PASSWORD);
      }
      if (script.includes("aws sqs send-message")) {
        const sqs = new SQSClient({ endpoint: stack.env.AWS_ENDPOINT_URL, region: "us-east-1" });
        const queue = JSON.parse(out.slice(out.indexOf("{"))).MessageId as string;
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: stack.name }));
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        expect(got.Messages?.map((m) => m.MessageId)).toContain(queue);
      }
    },
    120_000,
  );
});

/**
 * docs/cli.md's commands: its first block, and every `$ npx mm-email …` of its "A first
 * deployment" transcript, in order. They run in a folder that is this project to npx (its
 * package.json, cli/ and node_modules/) and holds the transcript's config.json; while they run,
 * an SQS poller invokes the real send-notification on the stack's queue, as Lambda would, so
 * `send --wait` sees its notification leave.
 */
describe("docs/cli.md's commands, as written", () => {
  const text = readFileSync(join(root, "docs", "cli.md"), "utf8");
  const first =
    /```sh\n([\s\S]*?)```/
      .exec(text)?.[1]
      ?.split("\n")
      .filter((l) => l.trim() !== "") ?? [];
  const transcript = [...text.matchAll(/^\$ (npx mm-email .*)$/gm)].map((m) => m[1] as string);

  it("are found", () => {
    expect(first).toEqual(["npx mm-email --help", "npx mm-email settings show"]);
    expect(transcript.map((c) => c.split(" ").slice(2, 4).join(" "))).toEqual([
      "settings import",
      "settings import",
      "settings show",
      "test --to",
      "send --to",
      "status",
    ]);
  });

  it("each ends with exit 0", async () => {
    const project = mkdtempSync(join(tmpdir(), "docs-cli-"));
    for (const part of ["cli", "node_modules"]) symlinkSync(join(root, part), join(project, part));
    copyFileSync(join(root, "package.json"), join(project, "package.json"));
    writeFileSync(
      join(project, "config.json"),
      JSON.stringify({
        ServiceSettings: { EnableSecurityFixAlert: true },
        EmailSettings: {
          SMTPServer: "smtp.example.com",
          SMTPPort: "587",
          ConnectionSecurity: "STARTTLS",
          SMTPUsername: "mailer",
          SMTPPassword: "config-Pa55",
          FeedbackEmail: "noreply@example.com",
          FeedbackName: "Chat",
        },
      }),
    );
    const smtp = await startSmtpServer();
    const poller = pollQueue(smtp.port);
    try {
      for (const command of [...first, ...transcript]) {
        const { code, out } = await bash(command, project);
        expect(code, `${command}\n${out}`).toBe(0);
        if (command.includes(" test ")) expect(out).toContain("The connection works.");
        if (command.includes(" send ")) expect(out).toMatch(/^Sent: /m);
      }
      // The transcript's notification was mailed (beside those the examples above queued).
      expect(smtp.messages.some((m) => /^Subject: Hello$/m.test(m.raw.toString("utf8")))).toBe(true);
    } finally {
      await poller.stop();
      await smtp.close();
    }
  }, 180_000);
});

/**
 * Lambda's event source, as small as `send --wait` needs: receive from the stack's queue, invoke
 * the real send-notification (its environment pointing it at `port`, over the settings the
 * transcript imported), delete what it did not report failed.
 */
function pollQueue(port: number) {
  const sqs = new SQSClient({ endpoint: stack.env.AWS_ENDPOINT_URL, region: "us-east-1" });
  const handler = createHandler({
    env: {
      SETTINGS_PATH: stack.ssm.root,
      MM_EMAILSETTINGS_SMTPSERVER: "127.0.0.1",
      MM_EMAILSETTINGS_SMTPPORT: String(port),
      MM_EMAILSETTINGS_CONNECTIONSECURITY: "",
      MM_EMAILSETTINGS_ENABLESMTPAUTH: "false",
    },
    store: stack.ssm.store(),
    write: () => {},
  });
  let stopped = false;
  const done = (async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: stack.name }));
    for (let round = 0; round < 600 && !stopped; round++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) continue;
      const records = messages.map((m) => sqsRecord(m.Body ?? "", { messageId: m.MessageId as string }));
      const { batchItemFailures } = await handler(sqsEvent(records), lambdaContext("send-notification"));
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of messages.filter((x) => !failed.has(x.MessageId as string)))
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}
