import { describe, expect, it } from "vitest";
import { settingsRootPath } from "../../../lib/settings/index.ts";
import { ssmLayer } from "../../../lib/settings/ssm-store.ts";

describe("settingsRootPath", () => {
  it("defaults to /mattermost and drops a trailing slash", () => {
    expect(settingsRootPath({})).toBe("/mattermost");
    expect(settingsRootPath({ SETTINGS_PATH: "/prod/chat/" })).toBe("/prod/chat");
    expect(settingsRootPath({ SETTINGS_PATH: "/" })).toBe("");
  });

  it.each(["mattermost", "/a b", "/a//b", ""])("rejects %j naming SETTINGS_PATH", (path) => {
    expect(() => settingsRootPath({ SETTINGS_PATH: path })).toThrow(/SETTINGS_PATH .* must be an SSM path/);
  });
});

describe("ssmLayer", () => {
  it("maps <root>/<Section>/<Setting> to settings and ignores other parameters", () => {
    const { layer, warnings, others } = ssmLayer(
      [
        { name: "/mm/EmailSettings/SMTPServer", value: "mail", type: "String" },
        { name: "/mm/ServiceSettings/EnableSecurityFixAlert", value: "false", type: "String" },
        { name: "/mm/EmailSettings/SMTPPassword", value: "pw", type: "SecureString" },
        { name: "/mm/EmailSettings/Unknown", value: "x", type: "String" },
        { name: "/mm/SecurityAlerts/Sent/abc", value: "x", type: "String" },
        { name: "/other/EmailSettings/SMTPPort", value: "1", type: "String" },
      ],
      "/mm",
    );
    expect(layer.map((r) => [r.setting, r.value])).toEqual([
      ["SMTPServer", "mail"],
      ["SMTPPassword", "pw"],
      ["EnableSecurityFixAlert", "false"],
    ]);
    expect(warnings).toEqual([]);
    expect(others).toEqual({ "SecurityAlerts/Sent/abc": "x" });
  });

  it("warns when the password is not a SecureString, without its value", () => {
    const { warnings } = ssmLayer(
      [{ name: "/mm/EmailSettings/SMTPPassword", value: "pw-plain", type: "String" }],
      "/mm",
    );
    expect(warnings).toEqual([
      "/mm/EmailSettings/SMTPPassword is a String parameter: store the password as a SecureString",
    ]);
  });
});
