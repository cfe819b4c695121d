/**
 * The AWS SDK's SSM client, for environments without credentials in the environment (profiles,
 * SSO, instance roles) and for tests. Imported only where needed, so Lambda cold starts skip it.
 */
import * as ssm from "@aws-sdk/client-ssm";
import type { SsmApi, SsmOperation } from "./ssm-api.ts";

/**
 * An SSM client configured for Lambda: short connection and request timeouts so an unreachable
 * endpoint fails fast instead of eating the invocation. The SDK itself honours the standard
 * endpoint variables (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL).
 */
export function createSsmClient(config: ssm.SSMClientConfig = {}): ssm.SSMClient {
  return new ssm.SSMClient({
    maxAttempts: 3,
    // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes, and waits on.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    ...config,
  });
}

const COMMANDS: Record<SsmOperation, new (input: never) => ssm.$Command<never, never, never>> = {
  GetParametersByPath: ssm.GetParametersByPathCommand,
  GetParameters: ssm.GetParametersCommand,
  GetParameter: ssm.GetParameterCommand,
  PutParameter: ssm.PutParameterCommand,
  DeleteParameter: ssm.DeleteParameterCommand,
} as never;

export function sdkSsmApi(client: ssm.SSMClient = createSsmClient()): SsmApi {
  return {
    call: async (operation, input) => client.send(new COMMANDS[operation](input as never) as never) as never,
  };
}
