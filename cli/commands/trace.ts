/**
 * `trace ID | --to ADDRESS`: what happened to a notification, from send-notification's log group
 * (CloudWatch Logs): each attempt's time, outcome, server and reply, then one line that says
 * whether it was sent. ID is the SQS message id (`mm-email send` prints it) or the Message-ID,
 * which carries it; ADDRESS is found by the key the logs hold instead of the address
 * (lib/notifications/trace.ts). The search is bounded: --hours back, 20 pages of events.
 */
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { parseTraceLine, recipientKey, type TraceLine } from "../../lib/notifications/index.ts";
import { awsCall } from "../aws.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, printJson, table, usageError } from "../output.ts";

export interface TraceOptions {
  to?: string;
  hours?: number;
  json?: boolean;
}

const MAX_PAGES = 20;
const MAX_RECORDS = 10;
const DEFAULT_HOURS = 24;

async function search(ctx: CliContext, logGroup: string, term: string, since: number): Promise<TraceLine[]> {
  const lines: TraceLine[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await awsCall(`search log group ${logGroup}`, () =>
      ctx.aws().logs.send(
        new FilterLogEventsCommand({
          logGroupName: logGroup,
          filterPattern: JSON.stringify(term),
          startTime: since,
          ...(nextToken ? { nextToken } : {}),
        }),
      ),
    );
    for (const e of out.events ?? []) {
      // The filter narrows; the product's own reading decides (the term must really be there).
      if (!e.message?.includes(term)) continue;
      const line = parseTraceLine(e.message, e.timestamp ?? 0);
      if (line) lines.push(line);
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return lines;
}

function summary(lines: readonly TraceLine[]): string {
  const last = lines.at(-1);
  if (!last) return "";
  const where = last.server ? ` to ${last.server}` : "";
  switch (last.event) {
    case "sent":
      return `SENT at ${last.at}${where}: ${last.reply ?? "accepted"}`;
    case "dead-lettered":
      return `DEAD-LETTERED at ${last.at}${where}: ${last.reply ?? ""} (mm-email dlq show ${last.record})`;
    case "skipped":
      return `SKIPPED at ${last.at}: SendEmailNotifications is false`;
    default:
      return `NOT SENT YET: last tried at ${last.at}${where} (${last.event}): ${last.reply ?? ""}; SQS delivers it again`;
  }
}

export async function trace(
  ctx: CliContext,
  id: string | undefined,
  options: TraceOptions = {},
): Promise<number> {
  if ((id === undefined) === (options.to === undefined))
    throw usageError(
      "Name one notification: its id (mm-email send prints it, or its Message-ID), or --to ADDRESS",
    );
  if (ctx.local)
    throw usageError(
      "trace reads the deployed functions' logs; the local run prints its log lines as they happen",
    );
  const hours = options.hours ?? DEFAULT_HOURS;
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30)
    throw usageError(`--hours must be a number of hours above 0 and at most ${24 * 30}, got ${hours}`);
  const stack = await ctx.stack();
  const logGroup = stack.logGroupName("send-notification");
  if (!logGroup)
    throw new CliError(
      EXIT.aws,
      `Stack ${stack.name} has no send-notification log group: is it this product's stack?`,
    );
  const since = Date.now() - hours * 3600_000;
  // A Message-ID names the record the product made it from (<record@domain>) or is the
  // producer's own, which the "sent" line carries: try it whole, then its record part.
  const bare = (id ?? "").replace(/^<|>$/g, "");
  const terms = options.to
    ? [recipientKey(options.to)]
    : bare.includes("@")
      ? [bare, bare.split("@")[0] as string]
      : [bare];
  let found: TraceLine[] = [];
  for (const term of terms) {
    found = await search(ctx, logGroup, term, since);
    if (found.length > 0) break;
  }
  const records = [...new Set(found.map((l) => l.record))].slice(0, MAX_RECORDS);
  // Each record's whole story: its earlier attempts name the record, not always what was searched.
  const stories: Array<{ record: string; summary: string; lines: TraceLine[] }> = [];
  for (const record of records) {
    const lines = (await search(ctx, logGroup, record, since))
      .filter((l) => l.record === record)
      .sort((a, b) => a.at.localeCompare(b.at));
    stories.push({ record, summary: summary(lines), lines });
  }
  const what = options.to ? `notification to ${options.to}` : `notification ${id}`;
  if (options.json) {
    printJson(ctx, { logGroup, since: new Date(since).toISOString(), notifications: stories });
  } else if (stories.length === 0) {
    ctx.stderr.write(
      `No ${what} in ${logGroup} over the last ${hours} h: not received yet (mm-email status), or older (--hours)\n`,
    );
  } else {
    for (const story of stories) {
      ctx.stdout.write(`Notification ${story.record}\n`);
      ctx.stdout.write(
        table([
          ["TIME", "WHAT", "RECEIVE", "SERVER", "REPLY"],
          ...story.lines.map((l) => [
            l.at,
            l.event,
            l.receiveCount === undefined ? "-" : String(l.receiveCount),
            l.server ?? "-",
            l.reply ?? "",
          ]),
        ]),
      );
      ctx.stdout.write(`${story.summary}\n\n`);
    }
  }
  return stories.length === 0 ? EXIT.failed : EXIT.ok;
}
