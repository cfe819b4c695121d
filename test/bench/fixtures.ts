/**
 * The local world every benchmark runs against: moto_server behind a counting proxy (SSM), a
 * real SMTP server, a bulletin feed. Only 127.0.0.1.
 */
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { createSsmClient } from "../../lib/aws-ssm/sdk-client.ts";
import { type CountingProxy, startCountingProxy } from "../helpers/counting-proxy.ts";
import { type FeedServer, startFeedServer } from "../helpers/feed-server.ts";
import { type MotoServer, startMoto } from "../helpers/moto.ts";
import { startSmtpServer, type TestSmtpServer, type TestSmtpServerOptions } from "../helpers/smtp-server.ts";

export interface BenchWorld {
  moto: MotoServer;
  ssm: CountingProxy;
  feed: FeedServer;
  smtp: TestSmtpServer;
  root: string;
  /** Environment for a function process: settings from SSM via the proxy, the feed, AWS test credentials. */
  env: Record<string, string>;
  /** The world's settings under another root, some values changed; returns the root. */
  copySettings(suffix: string, changes: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(smtpOptions: TestSmtpServerOptions = {}): Promise<BenchWorld> {
  const moto = await startMoto();
  const ssm = await startCountingProxy(moto.endpoint);
  const smtp = await startSmtpServer(smtpOptions);
  const feed = await startFeedServer();
  const root = `/bench-${process.pid}`;
  const admin = createSsmClient({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const put = (at: string, name: string, value: string) =>
    admin.send(
      new PutParameterCommand({ Name: `${at}/${name}`, Value: value, Type: "String", Overwrite: true }),
    );
  const seed = async (at: string, changes: Record<string, string> = {}) => {
    const settings = {
      SMTPServer: "127.0.0.1",
      SMTPPort: String(smtp.port),
      FeedbackEmail: "noreply@bench.example",
      FeedbackName: "Bench",
      ...changes,
    };
    for (const [name, value] of Object.entries(settings)) await put(at, `EmailSettings/${name}`, value);
    await put(at, "SecurityAlerts/Recipients", "admin1@bench.example,admin2@bench.example");
    return at;
  };
  await seed(root);
  return {
    moto,
    ssm,
    feed,
    smtp,
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
    },
    copySettings: (suffix, changes) => seed(`${root}-${suffix}`, changes),
    async close() {
      await Promise.all([ssm.close(), smtp.close(), feed.close()]);
      await moto.stop();
    },
  };
}
