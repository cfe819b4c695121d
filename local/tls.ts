/**
 * TLS for the local run's embedded servers: a certificate authority made for this run and a
 * certificate it signed for 127.0.0.1 and localhost, so the functions can speak STARTTLS to the
 * embedded SMTP server with certificate checks on (credentials, passwords or tokens, never travel
 * unencrypted, locally either). Made with the system's openssl, in a temporary folder; without
 * openssl the run goes on without STARTTLS and says so. The tests make theirs the same way
 * (test/helpers/certs.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LocalTls {
  /** The certificate authority, which the functions trust. */
  ca: string;
  /** Signed by `ca`, for DNS:localhost and IP:127.0.0.1. */
  key: string;
  cert: string;
}

/** Runs openssl with these arguments; throws when it fails or is missing. */
export const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
/** A new P-256 key, no passphrase. */
export const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"] as const;

/** A CA named `name`, valid `days`, and a server certificate it signed for localhost and 127.0.0.1. Throws without openssl. */
export function issueCertificates(name: string, days: number): LocalTls {
  const dir = mkdtempSync(join(tmpdir(), "mm-email-tls-"));
  const p = (file: string) => join(dir, file);
  try {
    openssl(
      "req",
      "-x509",
      ...EC_KEY,
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      String(days),
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    openssl("req", ...EC_KEY, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost");
    writeFileSync(p("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    openssl(
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
      String(days),
      "-extfile",
      p("san.ext"),
    );
    const read = (file: string) => readFileSync(p(file), "utf8");
    return { ca: read("ca.crt"), key: read("server.key"), cert: read("server.crt") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This run's certificates, or undefined when openssl cannot make them. */
export function makeLocalTls(): LocalTls | undefined {
  try {
    return issueCertificates("mm-email local run CA", 30);
  } catch {
    return undefined;
  }
}
