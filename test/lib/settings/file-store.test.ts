/**
 * The local run's settings file (lib/settings/file-store.ts): a file that is not JSON is refused,
 * naming the file and the fault, never quoting the file's text (it may hold the SMTP password).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSettingsStore, SettingsLoadError } from "../../../lib/settings/index.ts";

const PASSWORD = "hunter2secret-f1le-pa55";

function fileHolding(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "file-store-")), "settings.json");
  writeFileSync(path, text);
  return path;
}

describe("a settings file that is not JSON", () => {
  it.each([
    [
      "an unquoted value",
      `{"EmailSettings": {"SMTPPassword": ${PASSWORD}, "SMTPPort": 587}}`,
      /Unexpected token 'h'/,
    ],
    [
      "a missing comma",
      `{"EmailSettings": {"SMTPPassword": "${PASSWORD}" "SMTPPort": 587}}`,
      /at position \d+/,
    ],
  ])("is refused naming the file and the fault, not quoting it: %s", async (_what, text, fault) => {
    const path = fileHolding(text);
    const error = await fileSettingsStore({ path })
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SettingsLoadError);
    expect((error as Error).message).toContain(`Settings file ${path} is not JSON: `);
    expect((error as Error).message).toMatch(fault);
    expect((error as Error).message).not.toContain(PASSWORD.slice(0, 6));
  });
});
