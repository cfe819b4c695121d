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
