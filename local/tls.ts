/**
 * TLS for the local run's embedded servers: a certificate authority made for this run and a
 * certificate it signed for 127.0.0.1 and localhost, so the functions can speak STARTTLS to the
 * embedded SMTP server with certificate checks on (credentials, passwords or tokens, never travel
 * unencrypted, locally either). Made with the system's openssl, in a temporary folder; without
 * openssl the run goes on without STARTTLS and says so.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LocalTls {
  /** The run's own certificate authority, which the functions trust. */
  ca: string;
  key: string;
  cert: string;
}

export function makeLocalTls(): LocalTls | undefined {
  const dir = mkdtempSync(join(tmpdir(), "mm-email-local-tls-"));
  const p = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    ssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      "30",
      "-subj",
      "/CN=mm-email local run CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    ssl("req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost");
    writeFileSync(p("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    ssl(
      "x509",
      "-req",
      "-in",
      p("server.csr"),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-out",
      p("server.crt"),
      "-days",
      "30",
      "-extfile",
      p("san.ext"),
    );
    const read = (name: string) => readFileSync(p(name), "utf8");
    return { ca: read("ca.crt"), key: read("server.key"), cert: read("server.crt") };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
