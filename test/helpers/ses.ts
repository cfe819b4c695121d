/**
 * Amazon SES v2 for tests: a moto_server of the test file's own (SendEmail with raw content checks
 * the sender is a verified identity and keeps what it sent, read back from its model dump; its own,
 * because the run's shared server dumps every service's models, and some of those do not serialise
 * while other files use them), behind a proxy that
 * answers what moto does not (GetAccount) and injects SES's refusals in front of it: its throttle
 * and daily quota (`429 TooManyRequestsException`), a sandbox's refusal, a suspended account, or
 * no answer at all. Each test uses a sender domain of its own.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { type SesAccount, sesApiFromEnv } from "../../lib/aws-ses/index.ts";
import { forward } from "./forward.ts";
import { type MotoServer, startMoto } from "./moto.ts";

let n = 0;

export interface SentBySes {
  source: string;
  destinations: string[];
  raw: string;
}

/** One refusal SES answers with: status, error type and message. */
export interface SesRefusal {
  status: number;
  type: string;
  message: string;
}

export const SES_REFUSALS = {
  throttle: { status: 429, type: "TooManyRequestsException", message: "Maximum sending rate exceeded." },
  quota: { status: 429, type: "TooManyRequestsException", message: "Daily message quota exceeded." },
  suspended: {
    status: 400,
    type: "AccountSuspendedException",
    message: "Sending has been suspended for this account.",
  },
  sandboxRecipient: (recipient: string): SesRefusal => ({
    status: 400,
    type: "MessageRejected",
    message: `Email address is not verified. The following identities failed the check in region US-EAST-1: ${recipient}`,
  }),
} satisfies Record<string, SesRefusal | ((r: string) => SesRefusal)>;

export interface SesProxy {
  endpoint: string;
  /** What GetAccount answers (moto has no GetAccount). */
  account: SesAccount;
  /** The SendEmail bodies that passed, as JSON. */
  sendBodies: Array<Record<string, unknown>>;
  /** Answer the next `count` SendEmail calls with this refusal instead of forwarding them. */
  refuseNext(refusal: SesRefusal, count?: number): void;
  /** Take requests and never answer them. */
  setSilent(silent: boolean): void;
  /** Identities GetEmailIdentity refuses to show, as IAM does for a role not granted them. */
  deniedIdentities: Set<string>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });

export async function startSesProxy(upstream: string): Promise<SesProxy> {
  const up = new URL(upstream);
  let refusal: { refusal: SesRefusal; left: number } | undefined;
  let silent = false;
  const proxy: SesProxy = {
    endpoint: "",
    account: {
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      EnforcementStatus: "HEALTHY",
      SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: 120 },
    },
    sendBodies: [],
    deniedIdentities: new Set(),
    refuseNext(r, count = 1) {
      refusal = { refusal: r, left: count };
    },
    setSilent(value) {
      silent = value;
    },
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (silent) return; // the request stays open: a dependency that never answers
    if (req.method === "GET" && req.url === "/v2/email/account") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(proxy.account));
      return;
    }
    const identity = /^\/v2\/email\/identities\/([^/]+)$/.exec(req.url ?? "")?.[1];
    if (req.method === "GET" && identity && proxy.deniedIdentities.has(decodeURIComponent(identity))) {
      res.writeHead(403, { "content-type": "application/json", "x-amzn-errortype": "AccessDeniedException" });
      res.end(
        JSON.stringify({
          message: `User is not authorized to perform: ses:GetEmailIdentity on resource identity/${decodeURIComponent(identity)}`,
        }),
      );
      return;
    }
    if (req.method === "POST" && req.url === "/v2/email/outbound-emails") {
      if (refusal && refusal.left > 0) {
        refusal.left--;
        const { status, type, message } = refusal.refusal;
        res.writeHead(status, {
          "content-type": "application/json",
          "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.services.email/`,
        });
        res.end(JSON.stringify({ message }));
        return;
      }
      proxy.sendBodies.push(JSON.parse(body.toString("utf8")) as Record<string, unknown>);
    }
    forward(up, req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** Starts the file's own moto_server for SES before its tests, and stops it after; call at the top of a file. */
export function sesServer(): () => string {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  return () => {
    if (!moto) throw new Error("sesServer() must be called at the top of the test file");
    return moto.endpoint;
  };
}

/** A sender domain of this test's own in that moto_server, and what SES sent from it. */
export function sesFixture(endpoint: string) {
  const domain = `t${process.pid}-${Date.now()}-${++n}.example`;
  return {
    endpoint,
    domain,
    sender: `notifications@${domain}`,
    /** The environment a function has in Lambda, pointed at `at` (moto, or a proxy in front of it). */
    env: (at: string = endpoint) => ({
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: at,
    }),
    /** CreateEmailIdentity, as an operator's verification leaves it. */
    async verify(identity: string = domain) {
      // Signed, as moto tells the service from the signature's scope.
      await sesApiFromEnv(this.env())?.request({
        method: "POST",
        path: "/v2/email/identities",
        body: { EmailIdentity: identity },
      });
    },
    /** What moto's SES accepted from this test's domain, oldest first. */
    async sent(): Promise<SentBySes[]> {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      const data = (await res.json()) as {
        ses?: { RawMessage?: Array<{ source: string; destinations: string[]; raw_data: string }> };
      };
      return (data.ses?.RawMessage ?? [])
        .filter((m) => m.source.endsWith(`@${domain}`))
        .map((m) => ({ source: m.source, destinations: m.destinations, raw: m.raw_data }));
    },
  };
}
