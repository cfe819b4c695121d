// Runs in a fresh Node process, as one warm Lambda container: `invocations` SQS batches of `batch`
// records, one after another, each timed. argv: bundle <path> | sdk, then <invocations> <batch>.
// `sdk` sends the same messages by calling the AWS SDK directly: each composed by nodemailer's
// MailComposer, then SESv2Client's SendEmailCommand with the raw message, one after another (the
// product's pool of one does the same). The message body comes on stdin. Prints { times, failures }.
import { readFileSync } from "node:fs";

const [mode, ...rest] = process.argv.slice(2);
const [bundle, invocations, batch] = mode === "bundle" ? rest : [undefined, ...rest];
const body = readFileSync(0, "utf8");
const message = JSON.parse(body);
const context = { awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 900_000 };

let send;
if (mode === "bundle") {
  const mod = await import(bundle);
  let n = 0;
  send = async () => {
    const Records = Array.from({ length: Number(batch) }, () => ({
      messageId: `w-${++n}`,
      body,
      attributes: { ApproximateReceiveCount: "1" },
    }));
    return (await mod.handler({ Records }, context)).batchItemFailures.length;
  };
} else {
  const [{ SESv2Client, SendEmailCommand }, { default: MailComposer }] = await Promise.all([
    import("@aws-sdk/client-sesv2"),
    import("nodemailer/lib/mail-composer/index.js"),
  ]);
  const client = new SESv2Client({});
  const from = process.env.MM_EMAILSETTINGS_FEEDBACKEMAIL;
  send = async () => {
    let failures = 0;
    for (let i = 0; i < Number(batch); i++) {
      const raw = await new MailComposer({ from, ...message }).compile().build();
      try {
        await client.send(
          new SendEmailCommand({
            FromEmailAddress: from,
            Destination: { ToAddresses: [message.to] },
            Content: { Raw: { Data: raw } },
          }),
        );
      } catch {
        failures++;
      }
    }
    return failures;
  };
}
const times = [];
let failures = 0;
for (let i = 0; i < Number(invocations); i++) {
  const started = performance.now();
  failures += await send();
  times.push(performance.now() - started);
}
process.stdout.write(`${JSON.stringify({ times, failures })}\n`);
process.exit(0);
