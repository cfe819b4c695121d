/**
 * The local world every benchmark runs against: moto_server behind a counting proxy (SSM), a
 * real SMTP server, a bulletin feed. Only 127.0.0.1.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { createSsmClient } from "../../lib/aws-ssm/sdk-client.ts";
import { testCertificates } from "../helpers/certs.ts";
import { type CountingProxy, startCountingProxy } from "../helpers/counting-proxy.ts";
import { type FeedServer, startFeedServer } from "../helpers/feed-server.ts";
import { type MotoServer, startMoto } from "../helpers/moto.ts";
import { startSmtpServer, type TestSmtpServer, type TestSmtpServerOptions } from "../helpers/smtp-server.ts";

export interface BenchWorld {
  moto: MotoServer;
  ssm: CountingProxy;
  feed: FeedServer;
  smtp: TestSmtpServer;
  /**
   * A submission port as operators run them: STARTTLS (a certificate signed by the run's CA,
   * verified: the functions get the CA through NODE_EXTRA_CA_CERTS), AUTH PLAIN required,
   * PIPELINING. `tlsRoot` holds the settings that point at it.
   */
  submission: TestSmtpServer;
  tlsRoot: string;
  root: string;
  /** Environment for a function process: settings from SSM via the proxy, the feed, AWS test credentials. */
  env: Record<string, string>;
  /** The world's settings under another root, some values changed; returns the root. */
  copySettings(suffix: string, changes: Record<string, string>): Promise<string>;
  /** More parameters under a root, by name relative to it (`EmailTransportSettings/Transport`). */
  putParameters(
    root: string,
    values: Record<string, string>,
    type?: "String" | "SecureString",
  ): Promise<void>;
  close(): Promise<void>;
}

const BENCH_USER = { name: "bench", password: "bench-submission-password" } as const;

/** Settings for the submission server at `port`: STARTTLS and AUTH, as a provider's port 587. */
export const submissionSettings = (port: number): Record<string, string> => ({
  SMTPPort: String(port),
  ConnectionSecurity: "STARTTLS",
  EnableSMTPAuth: "true",
  SMTPUsername: BENCH_USER.name,
  SMTPPassword: BENCH_USER.password,
});

export async function startWorld(smtpOptions: TestSmtpServerOptions = {}): Promise<BenchWorld> {
  const moto = await startMoto();
  const ssm = await startCountingProxy(moto.endpoint);
  const smtp = await startSmtpServer(smtpOptions);
  const certs = testCertificates();
  const submission = await startSmtpServer({
    tls: certs.server,
    users: { [BENCH_USER.name]: BENCH_USER.password },
    authMethods: ["PLAIN"],
    requireTlsForMail: true,
  });
  const caFile = join(mkdtempSync(join(tmpdir(), "bench-ca-")), "ca.pem");
  writeFileSync(caFile, certs.ca);
  const feed = await startFeedServer();
  const root = `/bench-${process.pid}`;
  const admin = createSsmClient({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const put = (at: string, name: string, value: string, type?: "String" | "SecureString") =>
    admin.send(
      new PutParameterCommand({
        Name: `${at}/${name}`,
        Value: value,
        Type: type ?? (name.endsWith("SMTPPassword") ? "SecureString" : "String"),
        Overwrite: true,
      }),
    );
  const seed = async (at: string, changes: Record<string, string> = {}) => {
    // What an operator's folder holds after importing config.json's EmailSettings (mm-email
    // settings import): every setting with a value (SSM stores no empty strings), so that a
    // folder read takes the pages a real one does (GetParametersByPath returns 10 a page).
    const settings = {
      SMTPServer: "127.0.0.1",
      SMTPPort: String(smtp.port),
      EnableSMTPAuth: "false",
      SkipServerCertificateVerification: "false",
      SMTPServerTimeout: "10",
      SendEmailNotifications: "true",
      FeedbackEmail: "noreply@bench.example",
      FeedbackName: "Bench",
      ReplyToAddress: "noreply@bench.example",
      ...changes,
    };
    for (const [name, value] of Object.entries(settings)) await put(at, `EmailSettings/${name}`, value);
    await put(at, "ServiceSettings/EnableSecurityFixAlert", "true");
    await put(at, "SecurityAlerts/Recipients", "admin1@bench.example,admin2@bench.example");
    return at;
  };
  await seed(root);
  const tlsRoot = await seed(`${root}-tls`, submissionSettings(submission.port));
  return {
    moto,
    ssm,
    feed,
    smtp,
    submission,
    tlsRoot,
    root,
    env: {
      PATH: process.env.PATH ?? "",
      SETTINGS_PATH: root,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_EC2_METADATA_DISABLED: "true",
      SECURITY_FEED_URL: feed.url,
      NODE_EXTRA_CA_CERTS: caFile,
    },
    copySettings: (suffix, changes) => seed(`${root}-${suffix}`, changes),
    async putParameters(at, values, type) {
      for (const [name, value] of Object.entries(values)) await put(at, name, value, type);
    },
    async close() {
      await Promise.all([ssm.close(), smtp.close(), submission.close(), feed.close()]);
      await moto.stop();
    },
  };
}
