/**
 * The AWS SDK's SSM client for tests and tools that want it directly. The product reaches it
 * through ssmApiFromEnv, which loads the SDK only where the lite client cannot serve.
 */
import * as ssm from "@aws-sdk/client-ssm";
import type { SsmApi } from "./api.ts";
import { SDK_CLIENT_CONFIG, sdkSsmApiFrom } from "./sdk.ts";

export function createSsmClient(config: ssm.SSMClientConfig = {}): ssm.SSMClient {
  return new ssm.SSMClient({ ...SDK_CLIENT_CONFIG, ...config });
}

export function sdkSsmApi(client: ssm.SSMClient = createSsmClient()): SsmApi {
  return sdkSsmApiFrom(ssm, client);
}
