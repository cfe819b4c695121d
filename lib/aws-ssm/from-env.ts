/**
 * The SSM API for this environment: the lite client where the credentials are in the environment
 * (Lambda), else the AWS SDK's client, imported on first use (profiles, SSO, instance roles).
 */
import type { SsmApi } from "./api.ts";
import { type Env, liteSsmApi } from "./client.ts";

export function ssmApiFromEnv(env: Env = process.env): SsmApi {
  const lite = liteSsmApi(env);
  if (lite) return lite;
  let sdk: Promise<SsmApi> | undefined;
  return {
    call: async (operation, input) => {
      // A dynamic import of the package itself, so that bundles keep it out of the cold start.
      sdk ??= Promise.all([import("@aws-sdk/client-ssm"), import("./sdk.ts")]).then(([ssm, adapter]) =>
        adapter.sdkSsmApiFrom(ssm),
      );
      return (await sdk).call(operation, input);
    },
  };
}
