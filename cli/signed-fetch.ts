/**
 * A POST to an IAM-authorised API Gateway endpoint, SigV4-signed (service execute-api) with the
 * caller's credentials: the standard chain, or --profile's.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

/** The region of an execute-api URL (`https://id.execute-api.eu-west-1.amazonaws.com/...`), if it says. */
export const regionOfEndpoint = (url: URL): string | undefined =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];

export async function signedPost(
  url: string,
  body: string,
  { credentials, region }: { credentials: AwsCredentialIdentityProvider; region: string },
): Promise<Response> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: "execute-api",
    region: regionOfEndpoint(target) ?? region,
    credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host, "content-type": "application/json" },
    body,
  });
  return fetch(target, { method: "POST", headers: signed.headers as Record<string, string>, body });
}
