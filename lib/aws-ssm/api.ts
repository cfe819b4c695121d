/**
 * The SSM calls this product makes, behind one small interface with two implementations: the
 * lite signed client (client.ts, for Lambda) and the AWS SDK's (sdk.ts, anywhere else). Callers
 * (the settings store, the security alerts' sent-store) depend on this file only.
 */
export type SsmOperation =
  | "GetParametersByPath"
  | "GetParameters"
  | "GetParameter"
  | "PutParameter"
  | "DeleteParameter"
  | "DescribeParameters";

export interface SsmApi {
  call<T = Record<string, unknown>>(operation: SsmOperation, input: Record<string, unknown>): Promise<T>;
}

/** An error SSM answered with; `name` is its code (ParameterNotFound, AccessDeniedException…). */
export { AwsServiceError as SsmError } from "../aws/json-client.ts";

/** Both the SDK's errors and the lite client's carry the AWS error code as their name. */
export const isSsmError = (error: unknown, code: string): boolean =>
  (error as { name?: string } | null)?.name === code;
