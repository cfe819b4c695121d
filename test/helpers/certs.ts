/**
 * Certificates made for the test run with the system's openssl: a test CA and a server
 * certificate it signed (for localhost and 127.0.0.1), and a self-signed certificate.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  ca: string;
  /** Signed by `ca`, valid for DNS:localhost and IP:127.0.0.1. */
  server: { key: string; cert: string };
  /** Its own issuer, for localhost. */
  selfSigned: { key: string; cert: string };
  /** An RSA key and its self-signed certificate: an app's credential for Microsoft's client assertions. */
  app: { key: string; cert: string };
}

let cached: TestCertificates | undefined;

export function testCertificates(): TestCertificates {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "smtp-certs-"));
  const p = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=Test CA",
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
    "2",
    "-extfile",
    p("san.ext"),
  );
  ssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("self.key"),
    "-out",
    p("self.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  );
  // An app's RSA certificate, as Microsoft's identity platform takes for client assertions.
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    p("app.key"),
    "-out",
    p("app.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=mm-email test app",
  );
  const read = (name: string) => readFileSync(p(name), "utf8");
  cached = {
    app: { key: read("app.key"), cert: read("app.crt") },
    ca: read("ca.crt"),
    server: { key: read("server.key"), cert: read("server.crt") },
    selfSigned: { key: read("self.key"), cert: read("self.crt") },
  };
  return cached;
}
