/** Reading parameters: by path (every page, bounded), by names (one call), and one by name. */
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

/** Too many pages under a path: the caller names what belongs there. */
export class TooManyParametersError extends Error {
  override readonly name = "TooManyParametersError";
}

/** Every parameter directly under `path`, decrypted, 10 a page (the API's maximum), at most `maxPages`. */
export async function getParametersByPath(
  api: SsmApi,
  path: string,
  { maxPages = 10 }: { maxPages?: number } = {},
): Promise<StoredParameter[]> {
  const out: StoredParameter[] = [];
  let nextToken: string | undefined;
  for (let pages = 1; ; pages++) {
    if (pages > maxPages) {
      throw new TooManyParametersError(`More than ${maxPages * 10} parameters under ${path}`);
    }
    const page = await api.call<{ Parameters?: Listed[]; NextToken?: string }>("GetParametersByPath", {
      Path: path,
      WithDecryption: true,
      MaxResults: 10,
      ...(nextToken ? { NextToken: nextToken } : {}),
    });
    out.push(...(page.Parameters ?? []).flatMap(toStored));
    nextToken = page.NextToken;
    if (!nextToken) return out;
  }
}

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
