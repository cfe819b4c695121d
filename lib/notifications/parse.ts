/**
 * An SQS record's body is a notification, either directly or inside an EventBridge event
 * envelope (`detail-type`, `detail`), so an EventBridge rule can target the queue as is.
 */
import { messageIssues, type OutgoingMessage, OutgoingMessageSchema } from "../smtp/index.ts";

export type ParsedNotification =
  | { ok: true; notification: OutgoingMessage; viaEventBridge: boolean }
  | { ok: false; issues: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function parseNotificationBody(body: string): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, issues: [`body is not JSON: ${(error as Error).message}`] };
  }
  const viaEventBridge = isRecord(json) && "detail-type" in json && "detail" in json;
  const candidate = viaEventBridge ? (json as { detail: unknown }).detail : json;
  const parsed = OutgoingMessageSchema.safeParse(candidate);
  if (!parsed.success) {
    const prefix = viaEventBridge ? "detail." : "";
    return { ok: false, issues: messageIssues(parsed.error).map((i) => `${prefix}${i}`) };
  }
  return { ok: true, notification: parsed.data, viaEventBridge };
}
