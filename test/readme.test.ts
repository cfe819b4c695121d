import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { environmentVariableFor, SETTING_NAMES } from "../lib/settings/index.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README settings table", () => {
  it.each(SETTING_NAMES)("documents %s with its parameter path and environment variable", (setting) => {
    const row = readme
      .split("\n")
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .find((cells) => cells[0] === "" && cells[1] === setting)
      ?.join(" | ");
    expect(row, `README has no table row for ${setting}`).toBeDefined();
    expect(row).toContain(`\`<root>/EmailSettings/${setting}\``);
    expect(row).toContain(`\`${environmentVariableFor(setting)}\``);
  });
});
