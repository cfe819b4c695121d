/**
 * An SQS record's body is a notification, either directly or inside an EventBridge event
 * envelope (`detail-type`, `detail`), so an EventBridge rule can target the queue as is.
 */
import { isPlainObject } from "../json.ts";
import { type OutgoingMessage, OutgoingMessageSchema } from "../smtp/index.ts";
import { describeIssues } from "../zod.ts";

export type ParsedNotification =
  | { ok: true; notification: OutgoingMessage; viaEventBridge: boolean }
  | { ok: false; issues: string[] };

export function parseNotificationBody(body: string): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, issues: [`body is not JSON: ${(error as Error).message}`] };
  }
  const viaEventBridge = isPlainObject(json) && "detail-type" in json && "detail" in json;
  const candidate = viaEventBridge ? (json as { detail: unknown }).detail : json;
  const parsed = OutgoingMessageSchema.safeParse(candidate);
  if (!parsed.success) {
    return { ok: false, issues: describeIssues(parsed.error, { prefix: viaEventBridge ? "detail." : "" }) };
  }
  return { ok: true, notification: parsed.data, viaEventBridge };
}
