/**
 * A host whose first address is an IPv6 that swallows connection attempts (routed but filtered,
 * common) and whose second is a working IPv4: the session must try the next address instead of
 * spending the whole SMTPServerTimeout on the first (Node's happy eyeballs, lib/smtp/connection.ts).
 *
 * The black hole is real and on loopback: a listener on [::1] that never accepts, its accept queue
 * filled, so the kernel drops every further SYN and a connect there hangs as it would towards a
 * filtered address.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { openSmtpSession } from "../../../lib/smtp/index.ts";
import { composeMessage } from "../../../lib/smtp/message.ts";
import { perTest } from "../../helpers/per-test.ts";
import { message, settings } from "./fixtures.ts";

const { defer, smtpServer } = perTest();

const LISTEN_AND_NEVER_ACCEPT = `
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::1", int(sys.argv[1])))
s.listen(0)
print("ready", flush=True)
time.sleep(120)
`;

/** [::1]:port as a black hole: returns once a connect there no longer completes. */
async function blackHole(port: number): Promise<void> {
  const child: ChildProcess = spawn("python3", ["-c", LISTEN_AND_NEVER_ACCEPT, String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sockets: Socket[] = [];
  defer(async () => {
    for (const s of sockets) s.destroy();
    child.kill("SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) =>
      reject(new Error(`the [::1] listener exited (${code}): is IPv6 loopback off?`)),
    );
  });
  // Fill the accept queue: connections that complete the handshake but are never accepted.
  for (let i = 0; i < 3; i++) {
    const s = connect({ host: "::1", port });
    s.on("error", () => {});
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  const probe = connect({ host: "::1", port });
  probe.on("error", () => {});
  sockets.push(probe);
  const connected = await new Promise<boolean>((resolve) => {
    probe.once("connect", () => resolve(true));
    setTimeout(() => resolve(false), 500);
  });
  expect(connected, "the [::1] black hole accepted a connection").toBe(false);
}

describe("connecting to a host with several addresses", () => {
  it("gets past a black-holed IPv6 to the working IPv4, well within SMTPServerTimeout", async () => {
    const s = await smtpServer();
    await blackHole(s.port);
    const resolver = async () => [
      { address: "::1", family: 6 },
      { address: "127.0.0.1", family: 4 },
    ];
    const stages: Array<[string, number]> = [];
    const tested = settings({ SMTPServer: "mail.dual-stack.test", SMTPPort: s.port, SMTPServerTimeout: 10 });
    const session = await openSmtpSession(tested, {
      resolver,
      preconnected: false,
      onStage: (stage, ms) => stages.push([stage, ms]),
    });
    await session.send(await composeMessage(tested, message));
    await session.close();
    expect(s.messages).toHaveLength(1);
    // The old connect gave the first address the whole 10 s and then gave up: this one moved on.
    const connectMs = stages.find(([stage]) => stage === "connect")?.[1] ?? Number.POSITIVE_INFINITY;
    expect(connectMs).toBeLessThan(tested.SMTPServerTimeout * 1000);
  });
});
