/**
 * A hostile value never reaches the terminal raw: an escape sequence stored in a setting, or
 * carried by a dead letter's body or reason, is printed escaped (as a JSON-style `\u001b`), in
 * tables, messages and JSON alike, so it cannot move the cursor or rewrite what was printed above.
 */
import { describe, expect, it } from "vitest";
import { settingsShow } from "../../cli/commands/settings.ts";
import { escapeControls } from "../../cli/output.ts";
import { deployedStack } from "./fixture.ts";

const REWRITE = "\u001b[1A\u001b[2K\rSMTPServer  attacker.example";
/** Whether any escape, carriage return or CSI reached the output raw. */
const raw = (text: string) => ["\u001b", "\r", "\u009b"].some((c) => text.includes(c));

describe("escapeControls", () => {
  it("escapes C0 and C1 controls but tab and line feed, as valid JSON escapes", () => {
    expect(escapeControls(`a\u001b[31mb\tc\nd\re\u009bf\u007f`)).toBe(
      "a\\u001b[31mb\tc\nd\\u000de\\u009bf\\u007f",
    );
    expect(JSON.parse(`"${escapeControls("\u009b")}"`)).toBe("\u009b");
  });
});

describe("settings show with a hostile FeedbackName in SSM", () => {
  it("prints it escaped, in the table and in JSON", async () => {
    const stack = await deployedStack();
    await stack.ssm.put("EmailSettings/FeedbackName", `Ops${REWRITE}`);
    const text = stack.cli();
    await settingsShow(text.ctx);
    expect(raw(text.out())).toBe(false);
    expect(text.out()).toContain("Ops\\u001b[1A\\u001b[2K\\u000dSMTPServer  attacker.example");
    const json = stack.cli();
    await settingsShow(json.ctx, { json: true });
    expect(raw(json.out())).toBe(false);
    expect(JSON.parse(json.out()).settings.FeedbackName.value).toBe(`Ops${REWRITE}`);
  });
});
