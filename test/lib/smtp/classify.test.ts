import { describe, expect, it } from "vitest";
import { classifySmtpError } from "../../../lib/smtp/classify.ts";
import { SmtpStageError } from "../../../lib/smtp/index.ts";
import { scrub, secretForms } from "../../../lib/smtp/secrets.ts";
import { PASSWORD, settings } from "./fixtures.ts";

const err = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe("classifySmtpError", () => {
  it("says port 465 expects implicit TLS when a plain session gets no greeting there", () => {
    const e = classifySmtpError(err("Greeting never received", { code: "ETIMEDOUT" }), {
      stage: "greeting",
      settings: settings({ SMTPPort: 465 }),
    });
    expect(e.message).toBe("port 465 expects implicit TLS: set ConnectionSecurity to TLS");
    expect(e.transient).toBe(false);
  });

  it.each([
    [
      "ERR_TLS_CERT_ALTNAME_INVALID",
      /does not name mail\.example\.com: set SMTPServer to a name on the certificate/,
    ],
    ["CERT_HAS_EXPIRED", /has expired/],
    ["SELF_SIGNED_CERT_IN_CHAIN", /not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)/],
  ])("explains certificate failure %s as permanent", (code, hint) => {
    const e = classifySmtpError(err("cert", { code }), {
      stage: "tls",
      settings: settings({ SMTPServer: "mail.example.com" }),
    });
    expect(e).toMatchObject({ stage: "tls", code, transient: false });
    expect(e.message).toMatch(hint);
  });

  it("takes a failed STARTTLS upgrade's certificate code from under nodemailer's own (originalCode)", () => {
    // As nodemailer 10 reports it (test/lib/smtp/session.integration.test.ts meets it for real).
    const e = classifySmtpError(
      err("Hostname/IP does not match certificate's altnames: Host: x", {
        code: "ESOCKET",
        originalCode: "ERR_TLS_CERT_ALTNAME_INVALID",
        command: "CONN",
      }),
      { stage: "starttls", settings: settings({}) },
    );
    expect(e).toMatchObject({ stage: "starttls", code: "ERR_TLS_CERT_ALTNAME_INVALID", transient: false });
  });

  it.each([
    ["ENOTFOUND", false, /does not resolve: check the host name/],
    ["EAI_AGAIN", true, /could not resolve SMTPServer/],
  ])("DNS %s is transient=%s", (code, transient, hint) => {
    const e = classifySmtpError(err("lookup failed", { code }), { stage: "dns", settings: settings({}) });
    expect(e).toMatchObject({ stage: "dns", code, transient });
    expect(e.message).toMatch(hint);
  });

  it("takes the stage from the failing command and tells 4xx from 5xx", () => {
    const s = settings({});
    const temp = classifySmtpError(
      err("x", { code: "EENVELOPE", command: "MAIL FROM", response: "451 later", responseCode: 451 }),
      {
        stage: "data",
        settings: s,
      },
    );
    expect(temp).toMatchObject({
      stage: "mail-from",
      responseCode: 451,
      transient: true,
      command: "MAIL FROM",
    });
    expect(temp.message).toMatch(
      /rejected the sender FeedbackEmail test@example\.com \(server said: 451 later\)/,
    );
    const perm = classifySmtpError(
      err("x", { code: "EMESSAGE", command: "DATA", response: "554 spam", responseCode: 554 }),
      {
        stage: "rcpt",
        settings: s,
      },
    );
    expect(perm).toMatchObject({ stage: "data", transient: false });
  });

  it("scrubs the password, raw or base64, from messages and replies", () => {
    const s = settings({ SMTPPassword: PASSWORD });
    const b64 = Buffer.from(PASSWORD).toString("base64");
    const e = classifySmtpError(
      err(`boom ${PASSWORD}`, {
        code: "EAUTH",
        command: "AUTH PLAIN",
        response: `535 bad ${b64}`,
        responseCode: 535,
      }),
      { stage: "auth", settings: s },
    );
    const all = JSON.stringify({ ...e.toJSON(), response: e.response });
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(b64);
    expect(e.response).toBe("535 bad [redacted]");
  });

  it("tells a temporary STARTTLS refusal (454) from a missing STARTTLS (502)", () => {
    const s = settings({ ConnectionSecurity: "STARTTLS" });
    const temp = classifySmtpError(
      err("x", { code: "ETLS", command: "STARTTLS", response: "454 TLS not available", responseCode: 454 }),
      { stage: "starttls", settings: s },
    );
    expect(temp).toMatchObject({ stage: "starttls", transient: true });
    const missing = classifySmtpError(
      err("x", { code: "ETLS", command: "STARTTLS", response: "502 Unknown", responseCode: 502 }),
      { stage: "starttls", settings: s },
    );
    expect(missing).toMatchObject({ stage: "starttls", transient: false });
    expect(missing.message).toMatch(/does not offer STARTTLS/);
  });

  it("passes an SmtpStageError through unchanged", () => {
    const original = new SmtpStageError("x", { stage: "config", code: "EX", transient: false });
    expect(classifySmtpError(original, { stage: "dns", settings: settings({}) })).toBe(original);
  });
});

describe("scrub", () => {
  it("ignores an empty password", () => {
    expect(secretForms("")).toEqual([]);
    expect(scrub("nothing to hide", secretForms(""))).toBe("nothing to hide");
  });
});

describe("throttle replies", () => {
  const classify = (responseCode: number, response: string, command = "MAIL FROM:<a@b.c>") =>
    classifySmtpError(
      err(`Message failed: ${response}`, { code: "EENVELOPE", responseCode, response, command }),
      {
        stage: "mail-from",
        settings: settings({}),
      },
    );

  it.each([
    [421, "421 4.7.0 Error: too many connections from 10.0.0.1", "Postfix anvil, connection count"],
    [421, "421 4.7.0 mx.example.com Error: too many connections", "421 at any stage"],
    [450, "450 4.7.1 Error: too much mail from 10.0.0.1", "Postfix anvil, message rate"],
    [451, "451 4.7.1 Please try again later", "4.7.x policy deferral"],
    [452, "452 4.3.2 Too many concurrent SMTP connections; please try again later", "4.3.2 busy"],
    [432, "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", "Microsoft 365"],
    [454, "454 Throttling failure: Maximum sending rate exceeded.", "Amazon SES"],
    [450, "450 Too many connections, slow down", "a connection-count refusal without an enhanced code"],
  ])("%i %j is a throttle (%s): transient, and said to slow down", (code, response) => {
    const e = classify(code, response);
    expect(e).toMatchObject({ throttle: true, transient: true, responseCode: code });
    expect(e.toJSON()).toMatchObject({ throttle: true });
    expect(e.message).toMatch(/is limiting this sender/);
  });

  it.each([
    [450, "450 4.2.1 Mailbox busy, try again later"],
    [451, "451 4.4.1 Temporary lookup failure"],
    [452, "452 4.2.2 Mailbox full"],
    [454, "454 4.7.0 TLS not available due to local problem"],
    [550, "550 5.7.1 Rate limit exceeded, message rejected"],
    [550, "550 5.1.1 No such user"],
  ])("%i %j is not a throttle", (code, response) => {
    const e = classify(code, response);
    expect(e.throttle).toBe(false);
    expect(e.toJSON()).not.toHaveProperty("throttle");
  });
});

describe("a short password", () => {
  it("is scrubbed from a server's reply as a whole word, without mangling the words around it", () => {
    const e = classifySmtpError(
      err("Invalid login", {
        code: "EAUTH",
        responseCode: 535,
        response: "535 5.7.8 Zq is not the password for Zqx",
        command: "AUTH PLAIN",
      }),
      {
        stage: "auth",
        settings: settings({
          SMTPPassword: "Zq",
          SMTPUsername: "Zqx",
          EnableSMTPAuth: true,
          ConnectionSecurity: "TLS",
        }),
      },
    );
    expect(e.response).toBe("535 5.7.8 [redacted] is not the password for Zqx");
    expect(e.message).not.toMatch(/\bZq\b/);
  });
});
