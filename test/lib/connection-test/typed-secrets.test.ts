/**
 * What the connection test counts as typed secrets in a request body, as it parsed (a body the
 * schema will refuse included), and the field-by-field scrub of its answers.
 */
import { describe, expect, it } from "vitest";
import { scrubDeep, typedSecrets } from "../../../lib/connection-test/index.ts";
import { PASSWORD_MASK } from "../../../lib/settings/index.ts";
import { secretForms } from "../../../lib/smtp/index.ts";
import { testCertificates } from "../../helpers/certs.ts";

const { app } = testCertificates();

describe("typedSecrets", () => {
  it("the password in every form SMTP AUTH sends it, with the typed username, else the one given", () => {
    expect(typedSecrets({ settings: { SMTPPassword: "pw-123456" } }, "mailer")).toEqual(
      secretForms("pw-123456", "mailer"),
    );
    expect(
      typedSecrets({ settings: { SMTPPassword: "pw-123456", SMTPUsername: "typed" } }, "mailer"),
    ).toEqual(secretForms("pw-123456", "typed"));
  });

  it("every secret setting, whole and trimmed; a number too; never the mask or an empty value", () => {
    const secrets = typedSecrets({
      settings: {
        OAuth2ClientSecret: "  client-secret-1  ",
        SMTPPassword: 12345678,
        OAuth2ClientCertificate: PASSWORD_MASK,
        OAuth2ServiceAccountKey: "",
      },
    });
    expect(secrets).toEqual(expect.arrayContaining(["  client-secret-1  ", "client-secret-1", "12345678"]));
    expect(secrets).not.toContain(PASSWORD_MASK);
    expect(secrets).not.toContain("");
  });

  it("the private key inside a certificate's PEM (with \\n escapes) and a service account's JSON key", () => {
    const pem = `${app.key.trim()}\n${app.cert.trim()}`;
    const escaped = pem.replace(/\n/g, "\\n");
    expect(typedSecrets({ settings: { OAuth2ClientCertificate: escaped } })).toContain(app.key.trim());
    const key = JSON.stringify({ type: "service_account", client_email: "a@b.c", private_key: app.key });
    const secrets = typedSecrets({ settings: { OAuth2ServiceAccountKey: key } });
    expect(secrets).toEqual(expect.arrayContaining([key, app.key, app.key.trim()]));
  });

  it("from any body, one the schema refuses too: unknown fields beside, wrong shapes, no settings", () => {
    expect(typedSecrets({ settings: { SMTPPassword: "pw-123456", Bogus: [1] }, extra: 1 })).toContain(
      "pw-123456",
    );
    for (const body of [null, 5, "text", [], {}, { settings: "x" }, { settings: null }]) {
      expect(typedSecrets(body)).toEqual([]);
    }
  });
});

describe("scrubDeep", () => {
  it("scrubs every string and key, leaves numbers and booleans, and keeps the shape", () => {
    const value = { a: "x pw-123456 y", list: ["pw-123456", 587, true], "pw-123456": { n: null } };
    expect(scrubDeep(value, ["pw-123456"])).toEqual({
      a: "x [redacted] y",
      list: ["[redacted]", 587, true],
      "[redacted]": { n: null },
    });
    expect(scrubDeep(value, [])).toBe(value);
  });
});
