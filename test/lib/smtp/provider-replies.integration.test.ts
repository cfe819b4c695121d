/**
 * What the big providers answer when their own rules refuse a sender, from a real SMTP server
 * answering as they do, and what each becomes: the hint an operator acts on, and the class
 * delivery acts on (a settings problem is retried, never dead-lettered; a quota waits for its reset;
 * only the message's own refusal is final).
 */
import { describe, expect, it } from "vitest";
import { outcomeOf } from "../../../lib/notifications/index.ts";
import { testCertificates } from "../../helpers/certs.ts";
import { perTest } from "../../helpers/per-test.ts";
import type { TestSmtpServerOptions } from "../../helpers/smtp-server.ts";
import { PASSWORD, sendExpectingFailure, settings } from "./fixtures.ts";

const certs = testCertificates();
const { smtpServer } = perTest();

async function refusal(server: TestSmtpServerOptions, over: Parameters<typeof settings>[0] = {}) {
  const s = await smtpServer({ tls: certs.server, users: { "box@contoso.example": PASSWORD }, ...server });
  return sendExpectingFailure(
    settings({
      SMTPPort: s.port,
      ConnectionSecurity: "STARTTLS",
      SMTPUsername: "box@contoso.example",
      SMTPPassword: PASSWORD,
      FeedbackEmail: "noreply@contoso.example",
      ...over,
    }),
    { ca: certs.ca },
  );
}

describe("Microsoft 365", () => {
  it.each([
    [
      535,
      "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
    ],
    [550, "5.7.30 Basic authentication is not supported for Client Submission."],
  ])("%i at AUTH (basic auth off): switch to OAuth2; the settings' fault, retried", async (code, message) => {
    const error = await refusal({ authReply: { code, message } });
    expect(error).toMatchObject({ stage: "auth", responseCode: code, transient: false });
    expect(error.message).toMatch(
      /does not accept a password here .* SMTPAuthMethod oauth2-microsoft \(docs\/microsoft-365\.md\)/,
    );
    expect(outcomeOf(error)).toMatchObject({ kind: "settings", code: error.code });
  });

  it("550 5.7.60 SendAsDenied at DATA: the mailbox may not send as FeedbackEmail; retried, not dead-lettered", async () => {
    const error = await refusal({
      dataReply: {
        code: 550,
        message: "5.7.60 SMTP; Client does not have permissions to send as this sender",
      },
    });
    expect(error).toMatchObject({ stage: "data", responseCode: 550, transient: false });
    expect(error.message).toMatch(
      /box@contoso\.example may not send as FeedbackEmail noreply@contoso\.example/,
    );
    expect(outcomeOf(error)).toMatchObject({ kind: "settings" });
  });

  it("432 4.3.2 STOREDRV.ClientSubmit at MAIL FROM: a throttle (three connections a mailbox)", async () => {
    const error = await refusal({
      mailFromReply: { code: 432, message: "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded" },
    });
    expect(error).toMatchObject({ stage: "mail-from", throttle: true, transient: true });
    expect(error.message).toMatch(/3 connections at once per mailbox/);
    expect(outcomeOf(error)).toMatchObject({ kind: "throttled" });
  });
});

describe("Google", () => {
  it("534 5.7.9 at AUTH: an app password, or OAuth2", async () => {
    const error = await refusal({
      authReply: {
        code: 534,
        message:
          "5.7.9 Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor",
      },
    });
    expect(error).toMatchObject({ stage: "auth", responseCode: 534 });
    expect(error.message).toMatch(/app password .* SMTPAuthMethod oauth2-google/);
  });

  it("535 5.7.8 at AUTH: the credentials", async () => {
    const error = await refusal({
      authReply: {
        code: 535,
        message:
          "5.7.8 Username and Password not accepted. Learn more at https://support.google.com/mail/?p=BadCredentials",
      },
    });
    expect(error.message).toMatch(/Google did not accept SMTPUsername\/SMTPPassword: use an app password/);
  });

  it.each([
    [
      "MAIL FROM",
      {
        mailFromReply: {
          code: 550,
          message:
            "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852",
        },
      },
    ],
    [
      "RCPT TO",
      {
        rcptReplies: {
          "user@example.com": { code: 550, message: "5.4.5 Daily SMTP relay limit exceeded for user." },
        },
      },
    ],
  ])("550 5.4.5 at %s: the daily quota, waiting for its reset, never dead-lettered", async (_at, server) => {
    const error = await refusal(server);
    expect(error).toMatchObject({ quota: true, transient: true });
    expect(error.message).toMatch(/daily sending limit is spent/);
    expect(outcomeOf(error)).toMatchObject({ kind: "quota" });
  });

  it("450 4.2.1 Peak SMTP relay limit at RCPT: a throttle", async () => {
    const error = await refusal({
      rcptReplies: {
        "user@example.com": { code: 450, message: "4.2.1 Peak SMTP relay limit exceeded for customer." },
      },
    });
    expect(error).toMatchObject({ stage: "rcpt", throttle: true });
    expect(outcomeOf(error)).toMatchObject({ kind: "throttled" });
  });
});

describe("who a refusal at RCPT or DATA is about", () => {
  it.each([
    [
      "554 5.7.1 Relay access denied (the settings)",
      { code: 554, message: "5.7.1 <user@example.com>: Relay access denied" },
      "settings",
    ],
    [
      "554 Relay access denied with no enhanced code (the settings, from its text)",
      { code: 554, message: "<user@example.com>: Relay access denied" },
      "settings",
    ],
    [
      "550 with no enhanced code and no word about the recipient (the settings: retried, not dead-lettered)",
      { code: 550, message: "Administrative prohibition" },
      "settings",
    ],
    [
      "504 5.5.2 a strict relay's HELO rule (the settings)",
      { code: 504, message: "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname" },
      "settings",
    ],
    [
      "550 5.1.1 no such user (the message)",
      { code: 550, message: "5.1.1 <user@example.com>: Recipient address rejected: User unknown" },
      "dead",
    ],
    ["552 5.2.2 mailbox full (the message)", { code: 552, message: "5.2.2 Mailbox full" }, "dead"],
    [
      "550 with no enhanced code (the recipient, from its text)",
      { code: 550, message: "No such user" },
      "dead",
    ],
  ])("%s", async (_what, reply, kind) => {
    const error = await refusal({ rcptReplies: { "user@example.com": reply } });
    expect(error).toMatchObject({ stage: "rcpt", transient: false });
    expect(outcomeOf(error)).toMatchObject({ kind });
  });
});
