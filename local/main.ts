/**
 * `npm start`: the whole product on this machine, no AWS account needed. Options:
 *   --port N            console and API port (default 3025; 0 for any free port)
 *   --smtp-port N       embedded SMTP server port (default: any free port)
 *   --settings FILE     config.json-shaped settings file (default ./local-settings.json)
 * MM_EMAILSETTINGS_* variables override settings as in AWS; SETTINGS_PATH with an SSM endpoint
 * (AWS_ENDPOINT_URL_SSM) reads real SSM instead of the file.
 */
import { parseArgs } from "node:util";
import { startLocalProduct } from "./product.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3025" },
    "smtp-port": { type: "string", default: "0" },
    settings: { type: "string", default: "local-settings.json" },
  },
});

const number = (name: string, raw: string | undefined) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--${name} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
};

const product = await startLocalProduct({
  port: number("port", values.port),
  smtpPort: number("smtp-port", values["smtp-port"]),
  settingsFile: values.settings ?? "local-settings.json",
});

console.log(`
Mattermost email, running locally

  Console             ${product.url}/            (SMTP settings, Test Connection, captured mail)
  Test connection     POST ${product.url}/email/test
  Send notification   POST ${product.url}/notifications
  Security alerts     POST ${product.url}/security-alerts/run${process.env.SECURITY_FEED_URL ? "   (and hourly)" : ""}
  Embedded SMTP       127.0.0.1:${product.mailbox.port}   (captures every message; used unless settings point elsewhere)
  Settings            defaults < embedded SMTP < ${product.settingsSource} < MM_EMAILSETTINGS_* environment

Try:  curl -s -XPOST ${product.url}/notifications -d '{"to":"you@example.com","subject":"Hello","text":"It works"}'
Ctrl-C stops.
`);

const stop = async () => {
  await product.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
