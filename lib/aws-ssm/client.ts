/**
 * The lite SSM client: the JSON-protocol lite client (lib/aws/json-client.ts) pointed at SSM,
 * for Lambda, where the credentials are in the environment.
 */
import { type Env, type LiteClientOptions, liteJsonClient, serviceEndpoint } from "../aws/json-client.ts";
import type { SsmApi } from "./api.ts";

export type { Env } from "../aws/json-client.ts";
export type LiteSsmOptions = LiteClientOptions;

const SSM = { name: "ssm", targetPrefix: "AmazonSSM", jsonVersion: "1.1" } as const;

export const ssmEndpoint = (env: Env, region: string): URL => serviceEndpoint(env, SSM.name, region);

/** The lite API when the environment holds credentials and a region, else undefined. */
export function liteSsmApi(env: Env, options: LiteSsmOptions = {}): SsmApi | undefined {
  return liteJsonClient(SSM, env, options);
}
