/**
 * AWS Signature Version 4 for the requests the lite clients make: the JSON protocol's POST to "/"
 * (SSM, SQS, DynamoDB) and the REST-JSON protocol's paths (SES v2). Written out (not the SDK's
 * signer) so a cold start loads none of the SDK.
 */
import { createHash, createHmac } from "node:crypto";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  credentials: Credentials;
  region: string;
  service: string;
  host: string;
  /** Headers to sign besides host and the dates (lower-case names). */
  headers: Record<string, string>;
  body: string;
  now: Date;
  /** Default POST. */
  method?: string;
  /** The path as sent, already URI-encoded (each segment once). Default "/". */
  path?: string;
}

const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** `20260102T030405Z` */
export const amzDate = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** The headers to send, Authorization included. */
export function signRequest({
  credentials,
  region,
  service,
  host,
  headers,
  body,
  now,
  method = "POST",
  path = "/",
}: SignInput): Record<string, string> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all: Record<string, string> = {
    ...headers,
    host,
    "x-amz-date": date,
    ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
  };
  const names = Object.keys(all)
    .map((n) => n.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names
    .map((n) => `${n}:${String(lower[n]).trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const signedHeaders = names.join(";");
  // Services other than S3 sign the path encoded once more than it is sent, as RFC 3986 encodes
  // (encodeURIComponent leaves !'()* as they are; AWS's UriEncode does not).
  const uriEncode = (segment: string) =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalPath = path.split("/").map(uriEncode).join("/");
  const canonicalRequest = [method, canonicalPath, "", canonicalHeaders, signedHeaders, sha256(body)].join(
    "\n",
  );
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service),
    "aws4_request",
  );
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  return {
    ...all,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
