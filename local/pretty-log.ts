/** Turns the functions' JSON log lines into one readable terminal line each. */
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
