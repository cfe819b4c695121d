/**
 * Certificates made for the test run with the system's openssl: a test CA and a server
 * certificate it signed (for localhost and 127.0.0.1), and a self-signed certificate.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC_KEY, issueCertificates, openssl } from "../../local/tls.ts";

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
  const { ca, key, cert } = issueCertificates("Test CA", 2);
  const dir = mkdtempSync(join(tmpdir(), "smtp-certs-"));
  const p = (name: string) => join(dir, name);
  openssl(
    "req",
    "-x509",
    ...EC_KEY,
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
  openssl(
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
    ca,
    server: { key, cert },
    selfSigned: { key: read("self.key"), cert: read("self.crt") },
    app: { key: read("app.key"), cert: read("app.crt") },
  };
  return cached;
}
