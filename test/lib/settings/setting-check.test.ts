/**
 * One stored setting checked among the others (lib/settings/setting-check.ts), as `mm-email
 * settings set` and the local run's settings routes check a value before writing it.
 */
import { describe, expect, it } from "vitest";
import { checkStoredSetting, resolveLeniently, type SettingsLayer } from "../../../lib/settings/index.ts";

const stored = (values: Record<string, unknown>): SettingsLayer =>
  Object.entries(values).map(([setting, value]) => ({
    setting: setting as never,
    value,
    source: { layer: "ssm", name: `/mm/EmailSettings/${setting}` },
  }));
const SOURCE = { layer: "ssm", name: "/mm/EmailSettings/SMTPPort" } as const;

describe("checkStoredSetting", () => {
  it("passes a valid value, and names the setting and its rule for an invalid one", () => {
    const others = stored({ SMTPServer: "smtp.example.com" });
    expect(checkStoredSetting(others, "SMTPPort", "587", SOURCE)).toBeUndefined();
    expect(checkStoredSetting(others, "SMTPPort", "x", SOURCE)).toMatch(/SMTPPort/);
  });

  it("judges the value given, not the one stored, and a removal as the default", () => {
    const broken = stored({ SMTPPort: "x" });
    expect(checkStoredSetting(broken, "SMTPPort", "2525", SOURCE)).toBeUndefined();
    expect(checkStoredSetting(broken, "SMTPPort", undefined, SOURCE)).toBeUndefined();
  });

  it("does not blame the value on another setting's invalid one", () => {
    const others = stored({ SMTPServerTimeout: "soon" });
    expect(checkStoredSetting(others, "SMTPPort", "587", SOURCE)).toBeUndefined();
  });
});

describe("resolveLeniently", () => {
  it("resolves the valid settings, the invalid ones falling back, with an issue for each", () => {
    const { resolved, issues } = resolveLeniently([
      stored({ SMTPServer: "smtp.example.com", SMTPPort: "x" }),
    ]);
    expect(resolved.values.SMTPServer).toBe("smtp.example.com");
    expect(resolved.sources.SMTPPort).toEqual({ layer: "default" });
    expect(issues.map((i) => i.setting)).toEqual(["SMTPPort"]);
  });
});
