import { describe, expect, it } from "vitest";
import {
  InvalidSettingsError,
  PASSWORD_MASK,
  REFERENCE_SETTING_NAMES,
  readEnvironmentLayer,
  redactSettings,
  resolveEmailSettings,
  type SettingsLayer,
  TRANSPORT_SETTING_NAMES,
} from "../../../lib/settings/index.ts";

const fromEnv = (env: Record<string, string>) => resolveEmailSettings([readEnvironmentLayer(env)]);
const fromSsm = (values: Record<string, unknown>): SettingsLayer =>
  Object.entries(values).map(([setting, value]) => ({
    setting: setting as never,
    value,
    source: { layer: "ssm", name: `/mm/EmailSettings/${setting}` },
  }));

function invalid(fn: () => unknown): InvalidSettingsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    return error as InvalidSettingsError;
  }
  throw new Error("expected InvalidSettingsError");
}

describe("defaults", () => {
  it("are the reference server's, and SMTP with the password for the product's own, each from the default source", () => {
    const { values, sources } = resolveEmailSettings([]);
    const reference = Object.fromEntries(REFERENCE_SETTING_NAMES.map((n) => [n, values[n]]));
    expect(reference).toEqual({
      SMTPServer: "localhost",
      SMTPPort: 10025,
      EnableSMTPAuth: false,
      SMTPUsername: "",
      SMTPPassword: "",
      ConnectionSecurity: "",
      SkipServerCertificateVerification: false,
      EnableSecurityFixAlert: true,
      SMTPServerTimeout: 10,
      SendEmailNotifications: true,
      FeedbackName: "",
      FeedbackEmail: "test@example.com",
      ReplyToAddress: "test@example.com",
    });
    const own = Object.fromEntries(TRANSPORT_SETTING_NAMES.map((n) => [n, values[n]]));
    expect(own).toEqual({
      Transport: "smtp",
      SMTPAuthMethod: "password",
      OAuth2TenantId: "",
      OAuth2ClientId: "",
      OAuth2ClientSecret: "",
      OAuth2ClientCertificate: "",
      OAuth2ServiceAccountKey: "",
      OAuth2TokenEndpoint: "",
      OAuth2Scope: "",
      SESConfigurationSet: "",
      SESMessageTags: "",
    });
    expect(Object.keys(values).sort()).toEqual(
      [...REFERENCE_SETTING_NAMES, ...TRANSPORT_SETTING_NAMES].sort(),
    );
    for (const source of Object.values(sources)) expect(source).toEqual({ layer: "default" });
  });

  it.each([
    ["TLS", true],
    ["STARTTLS", true],
    ["", false],
  ])("EnableSMTPAuth defaults to %j security → %s", (security, auth) => {
    const { values, sources } = fromEnv({ MM_EMAILSETTINGS_CONNECTIONSECURITY: security });
    expect(values.EnableSMTPAuth).toBe(auth);
    expect(sources.EnableSMTPAuth).toEqual({ layer: "default" });
  });

  it("an explicit EnableSMTPAuth beats the derived default", () => {
    const { values } = fromEnv({
      MM_EMAILSETTINGS_CONNECTIONSECURITY: "TLS",
      MM_EMAILSETTINGS_ENABLESMTPAUTH: "false",
    });
    expect(values.EnableSMTPAuth).toBe(false);
  });
});

describe("normalisations", () => {
  it.each([
    ["SMTPServer", "", "localhost"],
    ["SMTPPort", "", 10025],
    ["SMTPPort", "587", 587],
    ["SMTPPort", "+25", 25],
    ["SMTPServerTimeout", "0", 10],
    ["SMTPServerTimeout", "30", 30],
    ["ConnectionSecurity", "PLAIN", ""],
    ["ConnectionSecurity", "none", ""],
    ["ConnectionSecurity", "None", ""],
    ["ConnectionSecurity", "tls", "TLS"],
    ["ConnectionSecurity", "StartTLS", "STARTTLS"],
    ["ReplyToAddress", "", ""],
  ])("%s %j becomes %j", (setting, raw, expected) => {
    const { values } = fromEnv({ [`MM_EMAILSETTINGS_${setting.toUpperCase()}`]: raw });
    expect(values[setting as keyof typeof values]).toEqual(expected);
  });

  it("accepts JSON-typed values as a config.json holds them", () => {
    const { values } = resolveEmailSettings([
      fromSsm({ SMTPPort: 465, SMTPServerTimeout: 0, EnableSMTPAuth: true, SendEmailNotifications: false }),
    ]);
    expect(values).toMatchObject({
      SMTPPort: 465,
      SMTPServerTimeout: 10,
      EnableSMTPAuth: true,
      SendEmailNotifications: false,
    });
  });
});

describe("environment parsing", () => {
  it.each(["1", "t", "T", "TRUE", "true", "True"])("boolean %j is true", (raw) => {
    expect(
      fromEnv({ MM_EMAILSETTINGS_SKIPSERVERCERTIFICATEVERIFICATION: raw }).values
        .SkipServerCertificateVerification,
    ).toBe(true);
  });

  it.each(["0", "f", "F", "FALSE", "false", "False"])("boolean %j is false", (raw) => {
    expect(fromEnv({ MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS: raw }).values.SendEmailNotifications).toBe(
      false,
    );
  });

  it("matches variable names case-insensitively and records the spelling used", () => {
    const { values, sources } = fromEnv({ mm_EmailSettings_SmtpServer: "mail.example.com" });
    expect(values.SMTPServer).toBe("mail.example.com");
    expect(sources.SMTPServer).toEqual({ layer: "environment", name: "mm_EmailSettings_SmtpServer" });
  });

  it("accepts EnableSecurityFixAlert under ServiceSettings, where the reference keeps it", () => {
    const { values, sources } = fromEnv({ MM_SERVICESETTINGS_ENABLESECURITYFIXALERT: "false" });
    expect(values.EnableSecurityFixAlert).toBe(false);
    expect(sources.EnableSecurityFixAlert).toEqual({
      layer: "environment",
      name: "MM_SERVICESETTINGS_ENABLESECURITYFIXALERT",
    });
  });

  it("ignores unrelated MM_ variables and other sections", () => {
    const { sources } = fromEnv({
      MM_SQLSETTINGS_DRIVERNAME: "postgres",
      MM_EMAILSETTINGS_UNKNOWN: "x",
      MM_SERVICESETTINGS_SMTPSERVER: "not-this-section",
      SMTPSERVER: "nope",
    });
    for (const source of Object.values(sources)) expect(source.layer).toBe("default");
  });

  it("keeps strings as-is (an empty FeedbackName clears it)", () => {
    const { values } = resolveEmailSettings([
      fromSsm({ FeedbackName: "Ops" }),
      readEnvironmentLayer({ MM_EMAILSETTINGS_FEEDBACKNAME: "" }),
    ]);
    expect(values.FeedbackName).toBe("");
  });
});

describe("precedence", () => {
  it("environment beats SSM beats default, and each value remembers its layer", () => {
    const { values, sources } = resolveEmailSettings([
      fromSsm({ SMTPServer: "ssm.example.com", SMTPPort: "2525" }),
      readEnvironmentLayer({ MM_EMAILSETTINGS_SMTPPORT: "465" }),
    ]);
    expect(values).toMatchObject({ SMTPServer: "ssm.example.com", SMTPPort: 465, SMTPUsername: "" });
    expect(sources.SMTPServer).toEqual({ layer: "ssm", name: "/mm/EmailSettings/SMTPServer" });
    expect(sources.SMTPPort).toEqual({ layer: "environment", name: "MM_EMAILSETTINGS_SMTPPORT" });
    expect(sources.SMTPUsername).toEqual({ layer: "default" });
  });

  it("a bad value that a later layer overrides does not matter", () => {
    const { values } = resolveEmailSettings([
      fromSsm({ SMTPPort: "abc" }),
      readEnvironmentLayer({ MM_EMAILSETTINGS_SMTPPORT: "25" }),
    ]);
    expect(values.SMTPPort).toBe(25);
  });

  it("two spellings of one setting in one layer must agree", () => {
    const error = invalid(() =>
      fromEnv({
        MM_EMAILSETTINGS_ENABLESECURITYFIXALERT: "true",
        MM_SERVICESETTINGS_ENABLESECURITYFIXALERT: "false",
      }),
    );
    expect(error.message).toMatch(
      /EnableSecurityFixAlert .*disagrees with MM_SERVICESETTINGS_ENABLESECURITYFIXALERT/,
    );
    expect(
      fromEnv({
        MM_EMAILSETTINGS_ENABLESECURITYFIXALERT: "0",
        MM_SERVICESETTINGS_ENABLESECURITYFIXALERT: "0",
      }).values.EnableSecurityFixAlert,
    ).toBe(false);
  });
});

describe("validation errors name the variable and the rule, and reject what the reference ignores", () => {
  it.each([
    ["MM_EMAILSETTINGS_SMTPPORT", "0", /1 to 65535/],
    ["MM_EMAILSETTINGS_SMTPPORT", "65536", /1 to 65535/],
    ["MM_EMAILSETTINGS_SMTPPORT", "25a", /1 to 65535/],
    ["MM_EMAILSETTINGS_SMTPPORT", " 25", /1 to 65535/],
    ["MM_EMAILSETTINGS_SMTPSERVERTIMEOUT", "-1", /from 1 to 3600/],
    ["MM_EMAILSETTINGS_SMTPSERVERTIMEOUT", "1.5", /from 1 to 3600/],
    ["MM_EMAILSETTINGS_SMTPSERVERTIMEOUT", "", /from 1 to 3600/],
    ["MM_EMAILSETTINGS_SMTPSERVERTIMEOUT", "3601", /from 1 to 3600/],
    ["MM_EMAILSETTINGS_ENABLESMTPAUTH", "yes", /must be a boolean/],
    ["MM_EMAILSETTINGS_ENABLESMTPAUTH", "", /must be a boolean/],
    ["MM_EMAILSETTINGS_ENABLESMTPAUTH", "tRUE", /must be a boolean/],
    ["MM_EMAILSETTINGS_CONNECTIONSECURITY", "SSL", /must be one of/],
    ["MM_EMAILSETTINGS_FEEDBACKEMAIL", "not-an-address", /must be an email address/],
    ["MM_EMAILSETTINGS_FEEDBACKEMAIL", "", /must be an email address/],
    ["MM_EMAILSETTINGS_REPLYTOADDRESS", "x@", /email address, or empty/],
    ["MM_EMAILSETTINGS_FEEDBACKNAME", "Ops\r\nBcc: victim@example.com", /line breaks/],
    ["MM_EMAILSETTINGS_SMTPSERVER", "mail.example.com\n", /line breaks/],
  ])("%s=%j is rejected", (variable, raw, rule) => {
    const error = invalid(() => fromEnv({ [variable]: raw }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.source).toEqual({ layer: "environment", name: variable });
    expect(error.issues[0]?.rule).toMatch(rule);
    expect(error.message).toContain(`environment variable ${variable}`);
  });

  it("names the SSM parameter when the bad value came from SSM", () => {
    const error = invalid(() => resolveEmailSettings([fromSsm({ SMTPPort: "smtp" })]));
    expect(error.message).toBe(
      'Invalid email settings: SMTPPort (SSM parameter /mm/EmailSettings/SMTPPort = "smtp") must be a whole number from 1 to 65535',
    );
  });

  it("reports every broken rule at once", () => {
    const error = invalid(() =>
      fromEnv({ MM_EMAILSETTINGS_SMTPPORT: "x", MM_EMAILSETTINGS_CONNECTIONSECURITY: "ssl" }),
    );
    expect(error.issues.map((i) => i.setting).sort()).toEqual(["ConnectionSecurity", "SMTPPort"]);
  });

  it("never echoes the password", () => {
    const password = "hunter2\nsecret-tail";
    const error = invalid(() => fromEnv({ MM_EMAILSETTINGS_SMTPPASSWORD: password }));
    expect(error.message).toMatch(
      /SMTPPassword \(environment variable MM_EMAILSETTINGS_SMTPPASSWORD\) must not/,
    );
    expect(JSON.stringify({ message: error.message, issues: error.issues })).not.toContain("hunter2");
  });

  it.each([
    ["SMTPPassword", "gU4rd-pa55-Xq81-zz"],
    ["OAuth2ClientSecret", "cl13nt-S3cret~Value.9"],
  ])("never echoes a stored %s pasted into another setting's variable", (name, secret) => {
    const error = invalid(() =>
      resolveEmailSettings([
        fromSsm({ [name]: secret }),
        readEnvironmentLayer({
          MM_EMAILSETTINGS_SMTPPORT: secret,
          MM_EMAILSETTINGS_SMTPSERVERTIMEOUT: `${secret}0`,
        }),
      ]),
    );
    expect(error.message).toContain(
      'SMTPPort (environment variable MM_EMAILSETTINGS_SMTPPORT = "[redacted]") must be a whole number',
    );
    expect(JSON.stringify({ message: error.message, issues: error.issues })).not.toContain(secret);
  });
});

describe("redactSettings", () => {
  it("masks a set password with the reference's 32 asterisks and keeps sources", () => {
    const resolved = fromEnv({
      MM_EMAILSETTINGS_SMTPPASSWORD: "s3cr3t-pw",
      MM_EMAILSETTINGS_SMTPUSERNAME: "u",
    });
    const redacted = redactSettings(resolved);
    expect(PASSWORD_MASK).toBe("*".repeat(32));
    expect(redacted.SMTPPassword).toEqual({
      value: PASSWORD_MASK,
      source: { layer: "environment", name: "MM_EMAILSETTINGS_SMTPPASSWORD" },
    });
    expect(redacted.SMTPUsername.value).toBe("u");
    expect(JSON.stringify(redacted)).not.toContain("s3cr3t-pw");
  });

  it("shows an unset password as empty", () => {
    expect(redactSettings(resolveEmailSettings([])).SMTPPassword.value).toBe("");
  });
});
