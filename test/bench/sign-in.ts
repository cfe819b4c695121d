/**
 * 8 and 9. Sending without a stored password (issue 17).
 *
 * 8. OAuth2: send-notification's first invocation signing in with XOAUTH2 (oauth2-microsoft, a
 *    client secret in SSM) at a submission server that takes only the token endpoint's tokens
 *    (STARTTLS, certificate verified), the token endpoint over HTTPS (local/token-endpoint.ts).
 *    The token endpoint and the SMTP server sit behind latency proxies (SSM stays near, as in a
 *    region); the product against the obvious implementation (obvious/send-notification-oauth2.ts:
 *    MSAL, then nodemailer's OAuth2), at 0 and R ms, giving the round trips on the critical path,
 *    and at Lambda's CPU share of the deployed memory.
 * 9. SES's API: send-notification's first invocation with Transport ses against the obvious
 *    @aws-sdk/client-sesv2 implementation at the deployed memory's CPU share, and a warm 10-record
 *    batch against calling the SDK directly (warm-child.mjs), SES being the run's moto_server.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MEMORY_MB } from "../../infra/constructs/email-function.ts";
import { sesApiFromEnv } from "../../lib/aws-ses/index.ts";
import { startTokenEndpoint } from "../../local/token-endpoint.ts";
import { testCertificates } from "../helpers/certs.ts";
import { startSmtpServer } from "../helpers/smtp-server.ts";
import type { BenchBundles, Bundle } from "./bundles.ts";
import { invocationFor, runChild } from "./cold-start.ts";
import { type CpuLimit, available as cgroupsAvailable, cpuLimit, cpuShareOf } from "./cpu-share.ts";
import type { BenchWorld } from "./fixtures.ts";
import { startLatencyProxy } from "./latency-proxy.ts";
import { MESSAGE } from "./measures.ts";
import { interleaved, median } from "./stats.ts";

const TENANT = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const CLIENT = { id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", secret: "bench~client-secret-value-0123456789" };
const MAILBOX = "notifications@bench.example";

/** The XOAUTH2 floor: the STARTTLS+AUTH submission's 8 (AUTH XOAUTH2 with its initial response is one round trip, as AUTH PLAIN). */
export const OAUTH2_ROUND_TRIP_FLOOR = 8;

export interface SignInColdRow {
  rttMs: number;
  /** "full": the machine's CPU; else the CPU share of that memory size. */
  cpu: "full" | number;
  productMs: number;
  obviousMs: number;
}

/** The sign-in world: the token endpoint over HTTPS and an XOAUTH2 submission server. */
async function signInServers() {
  const certs = testCertificates();
  const endpoint = await startTokenEndpoint({
    tls: certs.server,
    registrations: () => [
      { kind: "microsoft", tenants: [TENANT], clientId: CLIENT.id, secrets: [{ value: CLIENT.secret }] },
    ],
  });
  const smtp = await startSmtpServer({
    tls: certs.server,
    authMethods: ["XOAUTH2"],
    requireTlsForMail: true,
    xoauth2: { refusal: "microsoft", check: (token, user) => endpoint.checkToken(token, user) },
  });
  return { endpoint, smtp, close: async () => Promise.all([endpoint.close(), smtp.close()]) };
}

export async function measureOAuth2ColdStarts(
  bundles: BenchBundles,
  world: BenchWorld,
  rounds: number,
  rttMs: number,
): Promise<SignInColdRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-oauth2-"));
  const servers = await signInServers();
  const rows: SignInColdRow[] = [];
  try {
    for (const rtt of [0, rttMs]) {
      const tokenProxy = rtt
        ? await startLatencyProxy(
            { host: "127.0.0.1", port: Number(new URL(servers.endpoint.url).port) },
            rtt,
          )
        : undefined;
      const smtpProxy = rtt
        ? await startLatencyProxy({ host: "127.0.0.1", port: servers.smtp.port }, rtt)
        : undefined;
      // The proxy forwards TLS as it is, so the Host names the proxy's port.
      if (tokenProxy) servers.endpoint.allowProxyPort(tokenProxy.port);
      const tokenPort = tokenProxy?.port ?? Number(new URL(servers.endpoint.url).port);
      const smtpPort = smtpProxy?.port ?? servers.smtp.port;
      const root = await world.copySettings(`oauth2-rtt${rtt}`, {
        SMTPPort: String(smtpPort),
        ConnectionSecurity: "STARTTLS",
        EnableSMTPAuth: "true",
        SMTPUsername: MAILBOX,
      });
      await world.putParameters(root, {
        "EmailTransportSettings/SMTPAuthMethod": "oauth2-microsoft",
        "EmailTransportSettings/OAuth2TenantId": TENANT,
        "EmailTransportSettings/OAuth2ClientId": CLIENT.id,
        "EmailTransportSettings/OAuth2TokenEndpoint": `https://127.0.0.1:${tokenPort}/${TENANT}/oauth2/v2.0/token`,
      });
      await world.putParameters(
        root,
        { "EmailTransportSettings/OAuth2ClientSecret": CLIENT.secret },
        "SecureString",
      );
      const env = { ...world.env, SETTINGS_PATH: root };
      const run = (bundle: Bundle, extra: Record<string, string>, limit?: CpuLimit) => async () => {
        const inv = invocationFor("send-notification", { ...world, env }, dir);
        const r = await runChild(bundle.path, inv.file, { ...inv.env, ...extra }, [], limit);
        if (!inv.ok(r))
          throw new Error(
            `OAuth2 cold start (${bundle.path}) did not send: ${JSON.stringify(r).slice(0, 400)}`,
          );
        return r.wallMs;
      };
      // As deployed with the SMTP server and the section in context.
      const productEnv = { READ_TRANSPORT_SETTINGS: "true", SMTP_PRECONNECT: `127.0.0.1:${smtpPort}` };
      const full = await interleaved(
        {
          product: run(bundles.product["send-notification"], productEnv),
          obvious: run(bundles.obviousOAuth2, {}),
        },
        rounds,
      );
      rows.push({
        rttMs: rtt,
        cpu: "full",
        productMs: median(full.product),
        obviousMs: median(full.obvious),
      });
      if (rtt === rttMs && cgroupsAvailable()) {
        const limit = cpuLimit(cpuShareOf(DEFAULT_MEMORY_MB));
        try {
          const shared = await interleaved(
            {
              product: run(bundles.product["send-notification"], productEnv, limit),
              obvious: run(bundles.obviousOAuth2, {}, limit),
            },
            Math.min(rounds, 5),
          );
          rows.push({
            rttMs: rtt,
            cpu: DEFAULT_MEMORY_MB,
            productMs: median(shared.product),
            obviousMs: median(shared.obvious),
          });
        } finally {
          limit.close();
        }
      }
      await Promise.all([tokenProxy?.close(), smtpProxy?.close()]);
    }
  } finally {
    await servers.close();
  }
  return rows;
}

/** Round trips on the critical path with OAuth2: what R ms of delay added, divided by R. */
export function oauth2RoundTrips(rows: readonly SignInColdRow[]) {
  const base = rows.find((r) => r.rttMs === 0 && r.cpu === "full");
  const far = rows.find((r) => r.rttMs > 0 && r.cpu === "full");
  if (!base || !far) return undefined;
  return {
    rttMs: far.rttMs,
    product: (far.productMs - base.productMs) / far.rttMs,
    obvious: (far.obviousMs - base.obviousMs) / far.rttMs,
    productAddedMs: far.productMs - base.productMs,
    obviousAddedMs: far.obviousMs - base.obviousMs,
  };
}

/** The SES world: the sender's domain verified in the run's moto_server, Transport ses from the environment. */
async function sesEnv(world: BenchWorld) {
  const env = {
    ...world.env,
    AWS_ENDPOINT_URL_SESV2: world.moto.endpoint,
    MM_EMAILTRANSPORTSETTINGS_TRANSPORT: "ses",
  };
  await sesApiFromEnv(env)?.request({
    method: "POST",
    path: "/v2/email/identities",
    body: { EmailIdentity: "bench.example" },
  });
  // The SDK baseline finds SES through the SDK's own variable for it.
  return { ...env, AWS_ENDPOINT_URL_SESV2: world.moto.endpoint };
}

export async function measureSesColdStarts(
  bundles: BenchBundles,
  world: BenchWorld,
  rounds: number,
): Promise<SignInColdRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-ses-"));
  const env = await sesEnv(world);
  const run = (bundle: Bundle, limit?: CpuLimit) => async () => {
    const inv = invocationFor("send-notification", { ...world, env }, dir);
    const r = await runChild(bundle.path, inv.file, inv.env, [], limit);
    if (!inv.ok(r))
      throw new Error(`SES cold start (${bundle.path}) did not send: ${JSON.stringify(r).slice(0, 400)}`);
    return r.wallMs;
  };
  const rows: SignInColdRow[] = [];
  const full = await interleaved(
    { product: run(bundles.product["send-notification"]), obvious: run(bundles.obviousSes) },
    rounds,
  );
  rows.push({ rttMs: 0, cpu: "full", productMs: median(full.product), obviousMs: median(full.obvious) });
  if (cgroupsAvailable()) {
    const limit = cpuLimit(cpuShareOf(DEFAULT_MEMORY_MB));
    try {
      const shared = await interleaved(
        {
          product: run(bundles.product["send-notification"], limit),
          obvious: run(bundles.obviousSes, limit),
        },
        Math.min(rounds, 5),
      );
      rows.push({
        rttMs: 0,
        cpu: DEFAULT_MEMORY_MB,
        productMs: median(shared.product),
        obviousMs: median(shared.obvious),
      });
    } finally {
      limit.close();
    }
  }
  return rows;
}

const WARM_CHILD = fileURLToPath(new URL("warm-child.mjs", import.meta.url));
/** Both sides send the same message, its text given, so neither converts HTML. */
const SES_MESSAGE = { ...MESSAGE, text: "You were mentioned." };

function warmChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ times: number[]; failures: number }> {
  return new Promise((resolve, reject) => {
    const p = execFile(process.execPath, [WARM_CHILD, ...args], { env, timeout: 600_000 }, (e, out, err) =>
      e
        ? reject(new Error(`${e.message}\n${err}`))
        : resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}")),
    );
    p.stdin?.end(JSON.stringify(SES_MESSAGE));
  });
}

/** A warm 10-record batch (the mean of the batches after the first, which includes init): the handler against the SDK called directly. */
export async function sesWarmBatch(bundles: BenchBundles, world: BenchWorld, samples = 3) {
  const env = { ...(await sesEnv(world)), MM_EMAILSETTINGS_FEEDBACKEMAIL: "noreply@bench.example" };
  const warmOf = (r: { times: number[]; failures: number }) => {
    if (r.failures) throw new Error(`${r.failures} SES sends failed in the warm batch run`);
    const warm = r.times.slice(1);
    return warm.reduce((a, b) => a + b, 0) / warm.length;
  };
  const product: number[] = [];
  const sdk: number[] = [];
  for (let i = 0; i < samples; i++) {
    product.push(
      warmOf(await warmChild(["bundle", bundles.product["send-notification"].path, "11", "10"], env)),
    );
    sdk.push(warmOf(await warmChild(["sdk", "11", "10"], env)));
  }
  return { productMs: median(product), sdkMs: median(sdk) };
}
