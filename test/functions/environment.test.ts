/** The functions' environment: each variable's default and rule, and errors that name the variable. */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  FUNCTION_VARIABLES,
  InvalidEnvironmentError,
  readFunctionEnv,
  readVariable,
} from "../../functions/environment.ts";

describe("the functions' environment", () => {
  it("gives every variable its default when nothing is set", () => {
    expect(readFunctionEnv({})).toEqual({
      SETTINGS_PATH: "/mattermost",
      SETTINGS_CACHE_SECONDS: 60,
      SETTINGS_PREFETCH: true,
      NOTIFICATION_POOL_SIZE: 1,
      SMTP_KEEPALIVE_SECONDS: 30,
      SEND_RATE_PER_SECOND: undefined,
      NOTIFICATION_QUEUE_URL: undefined,
      DEAD_LETTER_QUEUE_URL: undefined,
      SMTP_PRECONNECT: undefined,
      SECURITY_FEED_URL: undefined,
      APP_VERSION: undefined,
      SECURITY_ALERT_RECIPIENTS: undefined,
      SECURITY_ALERT_MAX_PER_RUN: 5,
      READ_TRANSPORT_SETTINGS: false,
      LOG_LEVEL: "info",
      MM_SERVICESETTINGS_SITEURL: undefined,
    });
  });

  it("parses whole seconds for SETTINGS_CACHE_SECONDS", () => {
    expect(readVariable({ SETTINGS_CACHE_SECONDS: "0" }, "SETTINGS_CACHE_SECONDS")).toBe(0);
    expect(readVariable({ SETTINGS_CACHE_SECONDS: "300" }, "SETTINGS_CACHE_SECONDS")).toBe(300);
  });

  it.each([
    ["SETTINGS_CACHE_SECONDS", "-1", /SETTINGS_CACHE_SECONDS "-1" must be a whole number of seconds/],
    ["SETTINGS_CACHE_SECONDS", "1.5", /SETTINGS_CACHE_SECONDS "1.5" must be a whole number/],
    ["SETTINGS_CACHE_SECONDS", "ten", /SETTINGS_CACHE_SECONDS "ten" must be a whole number/],
    ["NOTIFICATION_POOL_SIZE", "0", /NOTIFICATION_POOL_SIZE "0" must be a whole number from 1 to 10/],
    ["NOTIFICATION_POOL_SIZE", "11", /NOTIFICATION_POOL_SIZE "11" must be a whole number from 1 to 10/],
    [
      "SMTP_KEEPALIVE_SECONDS",
      "301",
      /SMTP_KEEPALIVE_SECONDS "301" must be a whole number of seconds from 0 to 300/,
    ],
    ["FLEET_MAX_CONNECTIONS", "2.5", /FLEET_MAX_CONNECTIONS "2.5" must be a whole number, at least 1/],
    ["FLEET_MAX_CONNECTIONS", "0", /FLEET_MAX_CONNECTIONS "0" must be a whole number, at least 1/],
  ] as const)("rejects %s=%j naming the variable and the rule", (name, raw, message) => {
    expect(() => readFunctionEnv({ [name]: raw })).toThrow(InvalidEnvironmentError);
    expect(() => readFunctionEnv({ [name]: raw })).toThrow(message);
  });

  it("rejects a SETTINGS_PATH that is not an SSM path, naming it", () => {
    expect(() => readVariable({ SETTINGS_PATH: "mattermost" }, "SETTINGS_PATH")).toThrow(
      /SETTINGS_PATH "mattermost" must be an SSM path/,
    );
  });

  it("reads the preconnect hint as host and port, and ignores one that is not host:port", () => {
    expect(readVariable({ SMTP_PRECONNECT: "smtp.example.com:587" }, "SMTP_PRECONNECT")).toEqual({
      host: "smtp.example.com",
      port: 587,
    });
    expect(readVariable({ SMTP_PRECONNECT: "smtp.example.com" }, "SMTP_PRECONNECT")).toBeUndefined();
  });

  it("turns the SSM prefetch off only for SETTINGS_PREFETCH=off, and takes any case of a log level", () => {
    expect(readVariable({ SETTINGS_PREFETCH: "off" }, "SETTINGS_PREFETCH")).toBe(false);
    expect(readVariable({ SETTINGS_PREFETCH: "on" }, "SETTINGS_PREFETCH")).toBe(true);
    expect(readVariable({ LOG_LEVEL: "DEBUG" }, "LOG_LEVEL")).toBe("debug");
    expect(readVariable({ LOG_LEVEL: "loud" }, "LOG_LEVEL")).toBe("info");
  });
});

describe("docs/functions.md", () => {
  it("documents every variable a function reads", () => {
    const doc = readFileSync(new URL("../../docs/functions.md", import.meta.url), "utf8");
    for (const name of Object.keys(FUNCTION_VARIABLES)) {
      expect(doc, `docs/functions.md has no row for ${name}`).toMatch(new RegExp(`^\\| \`${name}\` `, "m"));
    }
  });
});
