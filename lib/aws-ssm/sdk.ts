/**
 * The AWS SDK's SSM client behind the SsmApi interface. Only types are imported statically: the
 * SDK module itself is handed in, so bundles load it (dynamically) only when it is used.
 */
import type * as Ssm from "@aws-sdk/client-ssm";
import type { SsmApi, SsmOperation } from "./api.ts";

type SsmModule = typeof Ssm;

/**
 * Short connection and request timeouts so an unreachable endpoint fails fast instead of eating
 * the invocation. The SDK itself honours AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL.
 */
export const SDK_CLIENT_CONFIG: Ssm.SSMClientConfig = {
  maxAttempts: 3,
  // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes, and waits on.
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
};

export function sdkSsmApiFrom(
  ssm: SsmModule,
  client: Ssm.SSMClient = new ssm.SSMClient(SDK_CLIENT_CONFIG),
): SsmApi {
  const commands: Record<SsmOperation, new (input: never) => unknown> = {
    GetParametersByPath: ssm.GetParametersByPathCommand,
    GetParameters: ssm.GetParametersCommand,
    GetParameter: ssm.GetParameterCommand,
    PutParameter: ssm.PutParameterCommand,
    DeleteParameter: ssm.DeleteParameterCommand,
    DescribeParameters: ssm.DescribeParametersCommand,
  } as never;
  return {
    call: async (operation, input) => client.send(new commands[operation](input as never) as never) as never,
  };
}
