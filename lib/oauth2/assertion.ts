/**
 * The signed JWTs a client sends instead of a secret (RFC 7523): Microsoft's client assertion
 * (PS256, the certificate named by its SHA-256 thumbprint `x5t#S256`, as Microsoft's identity
 * platform documents today) and Google's service-account assertion (RS256, the key named by its
 * id). node:crypto signs; a key that cannot sign is a TokenError naming the setting.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from "node:crypto";

import { PEM_CERTIFICATE } from "../settings/index.ts";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export type JwtAlgorithm = "RS256" | "PS256";

/** `header.payload.signature`, signed with `key`. */
export function signJwt(
  algorithm: JwtAlgorithm,
  header: Record<string, string>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64url(JSON.stringify({ alg: algorithm, typ: "JWT", ...header }))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign(
    "sha256",
    Buffer.from(input),
    algorithm === "PS256"
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : key,
  );
  return `${input}.${b64url(signature)}`;
}

/** The key and certificate of a PEM holding both, and the certificate's SHA-256 thumbprint; throws a plain Error saying what is wrong. */
export function certificateCredential(pem: string): {
  key: KeyObject;
  thumbprintS256: string;
  notAfter: Date;
} {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(
      "its private key cannot be read: it must be unencrypted PEM (-----BEGIN PRIVATE KEY-----)",
    );
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new Error("its key must be an RSA key: Microsoft signs in apps with RSA certificates");
  const certPem = pem.match(PEM_CERTIFICATE)?.[0] ?? "";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new Error("its certificate cannot be read as PEM");
  }
  if (!cert.checkPrivateKey(key)) throw new Error("its private key is not the certificate's key");
  return {
    key,
    thumbprintS256: createHash("sha256").update(cert.raw).digest("base64url"),
    notAfter: new Date(cert.validTo),
  };
}

export interface MicrosoftAssertionInput {
  clientId: string;
  /** The token endpoint: the assertion's audience. */
  audience: string;
  key: KeyObject;
  thumbprintS256: string;
  nowSeconds: number;
}

/** Microsoft's client assertion: valid for 10 minutes, issued by and about the app. */
export function microsoftClientAssertion(input: MicrosoftAssertionInput): string {
  const { clientId, audience, key, thumbprintS256, nowSeconds } = input;
  return signJwt(
    "PS256",
    { "x5t#S256": thumbprintS256 },
    {
      aud: audience,
      iss: clientId,
      sub: clientId,
      jti: randomUUID(),
      nbf: nowSeconds,
      iat: nowSeconds,
      exp: nowSeconds + 600,
    },
    key,
  );
}

export interface GoogleAssertionInput {
  clientEmail: string;
  keyId?: string;
  key: KeyObject;
  /** The user to act as (domain-wide delegation). */
  subject: string;
  scope: string;
  audience: string;
  nowSeconds: number;
}

/** Google's service-account assertion: an hour at most, as Google allows. */
export function googleAssertion(input: GoogleAssertionInput): string {
  const { clientEmail, keyId, key, subject, scope, audience, nowSeconds } = input;
  return signJwt(
    "RS256",
    keyId ? { kid: keyId } : {},
    { iss: clientEmail, sub: subject, scope, aud: audience, iat: nowSeconds, exp: nowSeconds + 3600 },
    key,
  );
}
