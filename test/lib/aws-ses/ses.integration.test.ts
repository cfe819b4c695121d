/**
 * Transport ses against moto_server's SES v2 (the raw message read back from it), with SES's
 * refusals injected in front of it by a proxy: the bytes are the SMTP path's, the configuration
 * set and tags travel with them, and every SES answer becomes the class delivery acts on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runSesCheck } from "../../../lib/aws-ses/check.ts";
import { sesApiFromEnv } from "../../../lib/aws-ses/index.ts";
import { outcomeOf } from "../../../lib/notifications/index.ts";
import { createMailer, NotStartedError, SmtpStageError } from "../../../lib/smtp/index.ts";
import { openMailer } from "../../../lib/transport/index.ts";
import { perTest } from "../../helpers/per-test.ts";
import { SES_REFUSALS, type SesProxy, sesFixture, sesServer, startSesProxy } from "../../helpers/ses.ts";
import { settings } from "../smtp/fixtures.ts";

const { smtpServer } = perTest();
const moto = sesServer();
let proxy: SesProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function world() {
  const ses = sesFixture(moto());
  await ses.verify();
  proxy = await startSesProxy(ses.endpoint);
  const api = sesApiFromEnv(ses.env(proxy.endpoint));
  if (!api) throw new Error("no SES client");
  const s = settings({
    Transport: "ses",
    FeedbackEmail: ses.sender,
    ReplyToAddress: "",
    SMTPServerTimeout: 1,
  });
  return {
    ses,
    proxy,
    api,
    s,
    mailer: (over: Partial<typeof s> = {}) => openMailer({ ...s, ...over }, { ses: () => api }),
  };
}

const now = () => new Date("2026-12-06T10:00:00Z");
const message = {
  to: "user@example.com",
  bcc: ["audit@example.com"],
  subject: "Grüße from the build",
  text: "Plain body",
  html: "<p>Plain <b>body</b></p>",
  messageId: "<fixed-1@example.com>",
};
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("Transport ses sends through SES's API", () => {
  it("the very bytes the SMTP path sends, to every envelope recipient", async () => {
    const { ses, api, s } = await world();
    const sesMailer = openMailer(s, { ses: () => api, now });
    const result = await sesMailer.send(message);
    expect(result.response).toMatch(/^250 Amazon SES accepted it as /);
    expect(result.accepted).toEqual(["user@example.com", "audit@example.com"]);

    const server = await smtpServer();
    const smtp = createMailer({ ...s, Transport: "smtp", SMTPPort: server.port }, { now });
    await smtp.send(message);
    await smtp.close();

    // The same composition, the multipart boundary aside (random each time a message is composed).
    const boundless = (raw = "") => raw.replace(/--_NmP-[0-9a-f]+-Part_/g, "--_NmP-boundary-Part_");
    const [sent] = await ses.sent();
    expect(boundless(sent?.raw)).toBe(boundless(server.messages[0]?.raw.toString("utf8")));
    expect(sent?.raw).not.toMatch(/^Bcc:/im);
    expect(sent?.destinations).toEqual(expect.arrayContaining(["user@example.com", "audit@example.com"]));
  });

  it("with the configuration set and message tags the settings name", async () => {
    const { mailer, proxy } = await world();
    const m = mailer({
      SESConfigurationSet: "mattermost-notifications",
      SESMessageTags: "app=mattermost,kind=notification",
    });
    await m.send(message);
    expect(proxy.sendBodies[0]).toMatchObject({
      ConfigurationSetName: "mattermost-notifications",
      EmailTags: [
        { Name: "app", Value: "mattermost" },
        { Name: "kind", Value: "notification" },
      ],
    });
  });
});

describe("SES's replies, as delivery acts on them", () => {
  it("a throttle: the batch starts no more sends, and each comes back after its back-off", async () => {
    const { mailer, proxy } = await world();
    proxy.refuseNext(SES_REFUSALS.throttle);
    const m = mailer();
    const first = await failureOf(m.send(message));
    expect(first).toMatchObject({
      stage: "api",
      code: "TooManyRequestsException",
      throttle: true,
      transient: true,
    });
    expect(outcomeOf(first)).toMatchObject({ kind: "throttled" });
    const second = await failureOf(m.send(message));
    expect(second).toBeInstanceOf(NotStartedError);
    expect(outcomeOf(second)).toMatchObject({ kind: "retry" });
    expect(proxy.sendBodies).toHaveLength(0);
  });

  it("the daily quota: a quota, waiting for it to reset, never dead-lettered", async () => {
    const { mailer, proxy } = await world();
    proxy.refuseNext(SES_REFUSALS.quota);
    const m = mailer();
    const first = await failureOf(m.send(message));
    expect(first).toMatchObject({ stage: "api", quota: true, transient: true });
    expect((first as Error).message).toMatch(/daily sending quota is spent/);
    expect(outcomeOf(first)).toMatchObject({ kind: "quota" });
    expect(outcomeOf(await failureOf(m.send(message)))).toMatchObject({ kind: "quota" });
  });

  it("a sandbox's unverified recipient: that message is dead-lettered with SES's reason", async () => {
    const { mailer, proxy } = await world();
    proxy.refuseNext(SES_REFUSALS.sandboxRecipient("user@example.com"));
    const error = await failureOf(mailer().send(message));
    expect(error).toMatchObject({ stage: "rcpt", code: "MessageRejected", transient: false });
    const outcome = outcomeOf(error);
    expect(outcome).toMatchObject({ kind: "dead", code: "MessageRejected" });
    expect(outcome.kind === "dead" && outcome.reason).toMatch(/sandbox.*request production access/);
  });

  it("a sender SES has not verified (moto's own refusal): the settings' fault, retried, not dead-lettered", async () => {
    const { mailer } = await world();
    const error = await failureOf(mailer({ FeedbackEmail: "someone@unverified.example" }).send(message));
    expect(error).toBeInstanceOf(SmtpStageError);
    expect(error).toMatchObject({ stage: "api", code: "MessageRejected", transient: false });
    expect(outcomeOf(error)).toMatchObject({ kind: "settings", code: "MessageRejected" });
  });

  it("a suspended account: the settings' fault, retried", async () => {
    const { mailer, proxy } = await world();
    proxy.refuseNext(SES_REFUSALS.suspended);
    const error = await failureOf(mailer().send(message));
    expect(error).toMatchObject({ stage: "api", code: "AccountSuspendedException" });
    expect(outcomeOf(error)).toMatchObject({ kind: "settings" });
  });

  it("SES not answering: transient, within SMTPServerTimeout, and never sent twice", async () => {
    const { mailer, proxy } = await world();
    proxy.setSilent(true);
    const started = performance.now();
    const error = await failureOf(mailer().send(message));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(error).toMatchObject({ stage: "api", code: "ETIMEDOUT", transient: true });
    expect(proxy.sendBodies).toHaveLength(0);
  });
});

describe("the connection test's api stage", () => {
  it("reports the identity, the sandbox, the rate and what is left of the quota, and sends with a recipient", async () => {
    const { ses, api, s, proxy } = await world();
    proxy.account = {
      ...proxy.account,
      ProductionAccessEnabled: false,
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 150 },
    };
    const result = await runSesCheck(s, {
      api: () => api,
      send: { to: "user@example.com", subject: "Test", text: "t" },
    });
    expect(result.ok).toBe(true);
    expect(result.stages.map((x) => [x.stage, x.ok])).toEqual([
      ["config", true],
      ["api", true],
      ["data", true],
    ]);
    expect(result.ses).toEqual({
      identity: ses.domain,
      identityVerified: true,
      sendingEnabled: true,
      sandbox: true,
      maxSendRate: 1,
      max24HourSend: 200,
      remaining24Hours: 50,
    });
    expect(result.warnings.join("\n")).toMatch(/in the sandbox/);
    expect(await ses.sent()).toHaveLength(1);
  });

  it("finds the verified domain when the role may read only the domain (the stack's grant), not the address", async () => {
    const { ses, api, s, proxy } = await world();
    proxy.deniedIdentities.add(s.FeedbackEmail);
    const result = await runSesCheck(s, { api: () => api });
    expect(result.error).toBeUndefined();
    expect(result.ses).toMatchObject({ identity: ses.domain, identityVerified: true });
  });

  it("fails at api for a sender with no identity, saying what to verify", async () => {
    const { api, s } = await world();
    const result = await runSesCheck({ ...s, FeedbackEmail: "noreply@nowhere.example" }, { api: () => api });
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ stage: "api", code: "IdentityNotVerified" });
    expect(result.error?.message).toMatch(/no identity for FeedbackEmail noreply@nowhere\.example/);
  });

  it("fails at config when the function has no SES client", async () => {
    const { s } = await world();
    const result = await runSesCheck(s, {
      api: () => {
        throw new Error("Transport is ses but the environment has no AWS credentials and region");
      },
    });
    expect(result.error).toMatchObject({ stage: "config" });
    expect(result.error?.message).toMatch(/no AWS credentials/);
  });
});
