/**
 * `dlq list | show | redrive | purge`: the dead-letter queue, each record with why it failed;
 * a redrive sends a record back to the notification queue, then deletes it from the DLQ. With
 * --local, the local run's dead-letter list, through its routes.
 */
import { DeleteMessageCommand, PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { STACK_OUTPUTS } from "../../infra/outputs.ts";
import { parseNotificationBody } from "../../lib/notifications/index.ts";
import type { DeadLetterEntry } from "../../local/dead-letter-list.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { type DeadLetter, RECEIVE_LIMIT_REASON, receiveDeadLetters } from "../dead-letters.ts";
import { type LocalRun, localError } from "../local.ts";
import { CliError, EXIT, printJson, table, usageError } from "../output.ts";
import { confirm } from "../prompt.ts";
import { queueDepth } from "../queue-depth.ts";

type LocalDeadLetter = DeadLetterEntry;

const publicLetter = ({ receiptHandle: _, ...rest }: DeadLetter) => rest;

async function listLetters(ctx: CliContext): Promise<DeadLetter[]> {
  if (ctx.local) {
    const a = await ctx.local.get("/api/dead-letters");
    if (a.status !== 200) throw localError(a, "GET /api/dead-letters");
    return (a.body as LocalDeadLetter[]).map((d) => {
      const parsed = parseNotificationBody(d.body);
      return {
        messageId: d.messageId,
        sourceMessageId: d.messageId,
        by: d.by,
        reason: d.by === "receive-limit" ? RECEIVE_LIMIT_REASON : d.reason,
        code: d.code,
        receiveCount: d.receiveCount,
        sentAt: d.deadAt,
        ...(parsed.ok ? { to: parsed.notification.to, subject: parsed.notification.subject } : {}),
        body: d.body,
      };
    });
  }
  const dlq = (await ctx.stack()).output(STACK_OUTPUTS.deadLetterQueueUrl);
  const listing = await receiveDeadLetters(ctx, dlq, { holdSeconds: 10 });
  await listing.release();
  return listing.letters;
}

export async function dlqList(ctx: CliContext, { json = false }: { json?: boolean } = {}): Promise<number> {
  const letters = await listLetters(ctx);
  if (json) {
    printJson(ctx, letters.map(publicLetter));
    return EXIT.ok;
  }
  if (letters.length === 0) {
    ctx.stdout.write("The dead-letter queue is empty.\n");
    return EXIT.ok;
  }
  ctx.stdout.write(
    table([
      ["MESSAGE ID", "TO", "SUBJECT", "RECEIVES", "CODE", "WHY"],
      ...letters.map((l) => [
        l.messageId,
        l.to ?? "-",
        l.subject ?? "(not a notification)",
        l.receiveCount === undefined ? "-" : String(l.receiveCount),
        l.code,
        l.reason,
      ]),
    ]),
  );
  ctx.stdout.write(`${letters.length} dead letter(s).\n`);
  return EXIT.ok;
}

export async function dlqShow(
  ctx: CliContext,
  id: string,
  { json = false }: { json?: boolean } = {},
): Promise<number> {
  const letter = (await listLetters(ctx)).find((l) => l.messageId === id || l.sourceMessageId === id);
  if (!letter) throw new CliError(EXIT.failed, `No dead letter ${id} (mm-email dlq list shows their ids)`);
  if (json) printJson(ctx, publicLetter(letter));
  else {
    const { body, ...rest } = publicLetter(letter);
    ctx.stdout.write(table(Object.entries(rest).map(([k, v]) => [k, String(v)])));
    ctx.stdout.write(`body:\n${body}\n`);
  }
  return EXIT.ok;
}

/** The local run's redrive: the letters go back on its queue as new messages and leave its list. */
async function redriveLocal(ctx: CliContext, local: LocalRun, ids: string[] | undefined): Promise<number> {
  const a = await local.post("/api/dead-letters/redrive", ids ? { ids } : {});
  if (a.status !== 200) throw localError(a, "POST /api/dead-letters/redrive");
  const { redriven, missing } = a.body as {
    redriven: Array<{ messageId: string; newMessageId: string }>;
    missing: string[];
  };
  for (const r of redriven) ctx.stdout.write(`redriven ${r.messageId} → ${r.newMessageId}\n`);
  if (redriven.length === 0 && missing.length === 0)
    ctx.stdout.write("The dead-letter list is empty: nothing to redrive.\n");
  if (missing.length) throw new CliError(EXIT.failed, `Not in the dead-letter list: ${missing.join(", ")}`);
  return EXIT.ok;
}

async function purgeLocal(ctx: CliContext, local: LocalRun): Promise<number> {
  const count = (await listLetters(ctx)).length;
  if (count === 0) {
    ctx.stdout.write("The dead-letter list is empty: nothing to purge.\n");
    return EXIT.ok;
  }
  if (
    !(await confirm(
      ctx,
      `Delete all ${count} dead letter(s) of the local run at ${local.url}? They cannot be had back.`,
      ctx.options.yes,
    ))
  ) {
    ctx.stderr.write("Nothing deleted.\n");
    return EXIT.usage;
  }
  const a = await local.delete("/api/dead-letters");
  if (a.status !== 200) throw localError(a, "DELETE /api/dead-letters");
  ctx.stdout.write(`Purged ${(a.body as { purged: number }).purged} dead letter(s) of the local run.\n`);
  return EXIT.ok;
}

export async function dlqRedrive(
  ctx: CliContext,
  ids: string[],
  { all = false }: { all?: boolean } = {},
): Promise<number> {
  if (all === ids.length > 0)
    throw usageError("Name the dead letters to redrive (their ids from mm-email dlq list), or pass --all");
  if (ctx.local) {
    if (
      all &&
      !(await confirmRedriveAll(ctx, (await listLetters(ctx)).length, "local run's dead-letter list"))
    )
      return EXIT.usage;
    return redriveLocal(ctx, ctx.local, all ? undefined : ids);
  }
  const stack = await ctx.stack();
  const dlq = stack.output(STACK_OUTPUTS.deadLetterQueueUrl);
  const queue = stack.output(STACK_OUTPUTS.notificationQueueUrl);
  const listing = await receiveDeadLetters(ctx, dlq, { holdSeconds: 60 });
  const chosen = all
    ? listing.letters
    : listing.letters.filter((l) => ids.includes(l.messageId) || ids.includes(l.sourceMessageId));
  const missing = ids.filter(
    (id) => !listing.letters.some((l) => l.messageId === id || l.sourceMessageId === id),
  );
  const moved = new Set<string>();
  try {
    if (all && !(await confirmRedriveAll(ctx, chosen.length, "dead-letter queue"))) return EXIT.usage;
    for (const l of chosen) {
      const out = await awsCall(`send ${l.messageId} back to ${queue}`, () =>
        ctx.aws().sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: l.body })),
      );
      await awsCall(`delete ${l.messageId} from ${dlq}`, () =>
        ctx.aws().sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: l.receiptHandle })),
      );
      moved.add(l.messageId);
      ctx.stdout.write(`redriven ${l.messageId} → ${out.MessageId}\n`);
    }
  } finally {
    await listing.release(moved);
  }
  if (moved.size === 0 && missing.length === 0)
    ctx.stdout.write("The dead-letter queue is empty: nothing to redrive.\n");
  if (missing.length) throw new CliError(EXIT.failed, `Not in the dead-letter queue: ${missing.join(", ")}`);
  return EXIT.ok;
}

/** --all sends every letter back at once (each may be mailed, or fail, again): ask, saying how many. */
async function confirmRedriveAll(ctx: CliContext, count: number, where: string): Promise<boolean> {
  if (count === 0) return true; // nothing to ask about: the redrive says it is empty
  const yes = await confirm(
    ctx,
    `Send all ${count} letter(s) of the ${where} back to the notification queue?`,
    ctx.options.yes,
  );
  if (!yes) ctx.stderr.write("Nothing redriven.\n");
  return yes;
}

export async function dlqPurge(ctx: CliContext): Promise<number> {
  if (ctx.local) return purgeLocal(ctx, ctx.local);
  const dlq = (await ctx.stack()).output(STACK_OUTPUTS.deadLetterQueueUrl);
  const depth = await awsCall(`read the attributes of queue ${dlq}`, () => queueDepth(ctx.aws().sqs, dlq));
  const count = depth.visible + depth.inFlight + depth.delayed;
  if (count === 0) {
    ctx.stdout.write("The dead-letter queue is empty: nothing to purge.\n");
    return EXIT.ok;
  }
  if (
    !(await confirm(
      ctx,
      `Delete all ${count} message(s) (as SQS counts them) in the dead-letter queue ${dlq}? They cannot be had back.`,
      ctx.options.yes,
    ))
  ) {
    ctx.stderr.write("Nothing deleted.\n");
    return EXIT.usage;
  }
  await awsCall(`purge ${dlq}`, () => ctx.aws().sqs.send(new PurgeQueueCommand({ QueueUrl: dlq })));
  ctx.stdout.write(`Purged ${dlq} (SQS takes up to 60 s to finish).\n`);
  return EXIT.ok;
}
