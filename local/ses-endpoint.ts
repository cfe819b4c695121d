/**
 * The local run's stand-in for Amazon SES's v2 API, so Transport `ses` runs end to end with no AWS
 * account: SendEmail with raw content keeps the message in the embedded mailbox (as SES would
 * deliver it), and the connection test's GetAccount and GetEmailIdentity answer as for a verified
 * identity of a production account. It reads the functions' requests as SES does (the path, the
 * JSON body, the raw message in base64); it does not check their signatures. For this machine's
 * programs only (loopback-only.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { loopbackRefusal } from "./loopback-only.ts";
import type { Mailbox } from "./mailbox.ts";

export interface SesEndpoint {
  /** Where the functions' SES client is pointed (their AWS_ENDPOINT_URL_SESV2). */
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 12 * 1024 * 1024;

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error("too large"));
      else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"));
      } catch (error) {
        reject(error);
      }
    });
    req.on("error", reject);
  });
}

function answer(res: ServerResponse, status: number, body: unknown, errorType?: string) {
  res.writeHead(status, {
    "content-type": "application/json",
    ...(errorType ? { "x-amzn-errortype": errorType } : {}),
  });
  res.end(JSON.stringify(body));
}

export async function startSesEndpoint(mailbox: Mailbox): Promise<SesEndpoint> {
  let sent = 0;
  const server = createServer(async (req, res) => {
    const refused = loopbackRefusal(req);
    if (refused) return answer(res, 403, { message: refused }, "AccessDeniedException");
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (req.method === "POST" && path === "/v2/email/outbound-emails") {
        const body = await readJson(req);
        const raw = (body.Content as { Raw?: { Data?: unknown } } | undefined)?.Raw?.Data;
        const to = (body.Destination as { ToAddresses?: unknown } | undefined)?.ToAddresses;
        if (typeof raw !== "string" || !Array.isArray(to) || typeof body.FromEmailAddress !== "string") {
          return answer(
            res,
            400,
            { message: "Content.Raw.Data, Destination.ToAddresses and FromEmailAddress are required" },
            "BadRequestException",
          );
        }
        await mailbox.deliver(Buffer.from(raw, "base64"), {
          from: body.FromEmailAddress,
          to: to.map(String),
        });
        sent++;
        return answer(res, 200, { MessageId: `local-ses-${Date.now()}-${sent}` });
      }
      if (req.method === "GET" && path === "/v2/email/account") {
        return answer(res, 200, {
          SendingEnabled: true,
          ProductionAccessEnabled: true,
          EnforcementStatus: "HEALTHY",
          SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: sent },
        });
      }
      const identity = /^\/v2\/email\/identities\/([^/]+)$/.exec(path)?.[1];
      if (req.method === "GET" && identity) {
        const name = decodeURIComponent(identity);
        return answer(res, 200, {
          IdentityType: name.includes("@") ? "EMAIL_ADDRESS" : "DOMAIN",
          VerifiedForSendingStatus: true,
          VerificationStatus: "SUCCESS",
        });
      }
      return answer(
        res,
        404,
        { message: `${req.method} ${path} is not an SES operation this stand-in answers` },
        "NotFoundException",
      );
    } catch (error) {
      return answer(res, 400, { message: (error as Error).message }, "BadRequestException");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
