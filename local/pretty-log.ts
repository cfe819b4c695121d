/**
 * Readable terminal lines: each of the functions' JSON log lines turned into one line, and the local
 * run's own lines in the same columns.
 */
const QUIET = new Set(["level", "timestamp", "service", "message", "requestId"]);

export function prettyLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry._aws && typeof entry._aws === "object") return prettyMetricsLine(entry);
  const time = typeof entry.timestamp === "string" ? entry.timestamp.slice(11, 19) : "";
  const level = entry.level === "info" ? "" : ` ${String(entry.level).toUpperCase()}`;
  const fields = Object.entries(entry)
    .filter(([k]) => !QUIET.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${String(entry.service ?? "").padEnd(20)}${level} ${String(entry.message ?? "")}${fields ? `  ${fields}` : ""}`;
}

/** One of the local run's own terminal lines, lined up with the functions' lines: time, service, text. */
export function localLogLine(service: string, text: string, at = new Date().toISOString()): string {
  return `${at.slice(11, 19)} ${service.padEnd(20)} ${text}`;
}

/**
 * A function's metrics (an EMF line, lib/metrics) as one short line: each metric with a value
 * other than 0, a latency as its count and its largest value.
 */
function prettyMetricsLine(entry: Record<string, unknown>): string {
  const aws = entry._aws as {
    Timestamp?: number;
    CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name: string }> }>;
  };
  const at = new Date(typeof aws.Timestamp === "number" ? aws.Timestamp : Date.now()).toISOString();
  const parts: string[] = [];
  for (const { Name } of aws.CloudWatchMetrics?.[0]?.Metrics ?? []) {
    const value = entry[Name];
    if (Array.isArray(value)) parts.push(`${Name}=${value.length}×(max ${Math.max(...(value as number[]))})`);
    else if (value !== 0) parts.push(`${Name}=${String(value)}`);
  }
  return localLogLine(String(entry.Function ?? ""), `metrics  ${parts.join(" ") || "all 0"}`, at);
}
