/** Reading parameters: by names (one call), and one by name, or a SecureString's key. */
import type { SsmApi } from "./api.ts";
import { isSsmError } from "./api.ts";

export interface StoredParameter {
  name: string;
  value: string;
  type: "String" | "StringList" | "SecureString";
}

interface Listed {
  Name?: string;
  Value?: string;
  Type?: string;
}

const toStored = (p: Listed): StoredParameter[] =>
  p.Name && p.Value !== undefined
    ? [{ name: p.Name, value: p.Value, type: (p.Type ?? "String") as StoredParameter["type"] }]
    : [];

/** The named parameters that exist (at most 10 names: the API's limit), decrypted, in one call. */
export async function getParameters(api: SsmApi, names: readonly string[]): Promise<StoredParameter[]> {
  const out = await api.call<{ Parameters?: Listed[] }>("GetParameters", {
    Names: names,
    WithDecryption: true,
  });
  return (out.Parameters ?? []).flatMap(toStored);
}

/** One parameter's value, or undefined when it does not exist. */
export async function getParameterValue(api: SsmApi, name: string): Promise<string | undefined> {
  try {
    const out = await api.call<{ Parameter?: { Value?: string } }>("GetParameter", { Name: name });
    return out.Parameter?.Value;
  } catch (error) {
    if (isSsmError(error, "ParameterNotFound")) return undefined;
    throw error;
  }
}

/**
 * The KMS key a SecureString parameter is encrypted with (its ARN or alias), or undefined when it
 * does not exist or uses the account's default `alias/aws/ssm`: a rewrite keeps the key it had.
 */
export async function secureStringKeyId(api: SsmApi, name: string): Promise<string | undefined> {
  const out = await api.call<{ Parameters?: Array<{ KeyId?: string; Type?: string }> }>(
    "DescribeParameters",
    {
      ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }],
    },
  );
  const keyId = out.Parameters?.[0]?.KeyId;
  return keyId && keyId !== "alias/aws/ssm" ? keyId : undefined;
}
