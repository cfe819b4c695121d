/** The JSON logger's secret scrubbing: inherited by children, scoped to the logger it was added to. */
import { describe, expect, it } from "vitest";
import { createJsonLogger } from "../../lib/logger.ts";

function captured() {
  const lines: string[] = [];
  return { lines, logger: createJsonLogger({ write: (l) => lines.push(l), level: "debug" }) };
}

describe("secret scrubbing", () => {
  it("scrubs the container's secrets from its children's lines", () => {
    const { lines, logger } = captured();
    logger.addSecret("stored-pw-123");
    logger.child({ requestId: "r1" }).info("saw stored-pw-123 in a reply");
    expect(lines.join("\n")).not.toContain("stored-pw-123");
    expect(lines.join("\n")).toContain("[redacted]");
  });

  it("keeps a secret added to one request's logger to that request: it neither leaks nor accumulates", () => {
    const { lines, logger } = captured();
    const first = logger.child({ requestId: "r1" });
    first.addSecret("typed-pw-456");
    first.info("typed-pw-456 was typed");
    expect(lines.at(-1)).not.toContain("typed-pw-456");
    // A later request's logger, and the container's, carry no scrub list from the first request.
    logger.child({ requestId: "r2" }).info("typed-pw-456 is just text here");
    logger.info("typed-pw-456 is just text here");
    expect(lines.slice(-2).every((l) => l.includes("typed-pw-456"))).toBe(true);
  });

  it("leaves a one- or two-character secret to the places it can appear, instead of every line", () => {
    const { lines, logger } = captured();
    logger.addSecret("ab");
    logger.info("about the abc of it");
    expect(lines.at(-1)).toContain("about the abc of it");
  });
});
