/**
 * Reading the stored settings' parameters from SSM. Kept apart from the schema (and so from zod)
 * so that a cold start can begin this I/O before the rest of the code is even loaded.
 */
import { SettingsLoadError } from "./errors.ts";
import type { SsmApi } from "./ssm-api.ts";

export const DEFAULT_SETTINGS_PATH = "/mattermost";
const VALID_PATH = /^\/[A-Za-z0-9_.\-/]*$/;

export interface StoredParameter {
  name: string;
  value: string;
  type: "String" | "StringList" | "SecureString";
}

/** The root from `SETTINGS_PATH`, without a trailing slash (`""` for the root `/` itself). */
export function settingsRootPath(env: Readonly<Record<string, string | undefined>>): string {
  const path = env.SETTINGS_PATH ?? DEFAULT_SETTINGS_PATH;
  if (!VALID_PATH.test(path) || path.includes("//")) {
    throw new SettingsLoadError(
      `SETTINGS_PATH ${JSON.stringify(path)} must be an SSM path: it starts with "/" and holds only letters, digits and _ . - /`,
    );
  }
  return path.replace(/\/+$/, "");
}

/**
 * Parameters read outside `<root>/EmailSettings/`, by name relative to the root: the reference
 * server's place for EnableSecurityFixAlert, and the security alerts' recipients.
 */
export const EXTRA_PARAMETERS = [
  "ServiceSettings/EnableSecurityFixAlert",
  "SecurityAlerts/Recipients",
] as const;

function loadError(path: string, error: unknown): SettingsLoadError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new SettingsLoadError(`Could not read SSM parameters under ${path}: ${reason}`, { cause: error });
}

const toStored = (p: { Name?: string; Value?: string; Type?: string }): StoredParameter[] =>
  p.Name && p.Value !== undefined
    ? [{ name: p.Name, value: p.Value, type: (p.Type ?? "String") as StoredParameter["type"] }]
    : [];

/** Every parameter directly under `path`, decrypted, 10 a page (the API's maximum), bounded. */
interface Page {
  Parameters?: Array<{ Name?: string; Value?: string; Type?: string }>;
  NextToken?: string;
}

async function readPath(api: SsmApi, path: string, maxPages: number): Promise<StoredParameter[]> {
  const out: StoredParameter[] = [];
  let nextToken: string | undefined;
  for (let pages = 1; ; pages++) {
    if (pages > maxPages) {
      throw new SettingsLoadError(
        `More than ${maxPages * 10} parameters under ${path}: only the settings belong there`,
      );
    }
    let page: Page;
    try {
      page = await api.call<Page>("GetParametersByPath", {
        Path: path,
        WithDecryption: true,
        MaxResults: 10,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
    } catch (error) {
      throw loadError(path, error);
    }
    out.push(...(page.Parameters ?? []).flatMap(toStored));
    nextToken = page.NextToken;
    if (!nextToken) return out;
  }
}

/**
 * The stored settings in as few requests as SSM allows, never one per setting: the
 * `<root>/EmailSettings` path page by page (two pages for the thirteen settings), and, at the
 * same time, the extra parameters in one GetParameters call. Reading these paths only, rather
 * than the whole root, keeps IAM scoped to them and the load independent of what else lives
 * under the root (the security alerts' sent markers, say).
 */
export async function readStoredParameters(
  api: SsmApi,
  root: string,
  { maxPages = 10 }: { maxPages?: number } = {},
): Promise<StoredParameter[]> {
  const extras = async () => {
    try {
      const out = await api.call<Page>("GetParameters", {
        Names: EXTRA_PARAMETERS.map((n) => `${root}/${n}`),
        WithDecryption: true,
      });
      return (out.Parameters ?? []).flatMap(toStored);
    } catch (error) {
      throw loadError(root || "/", error);
    }
  };
  const [settings, extra] = await Promise.all([readPath(api, `${root}/EmailSettings`, maxPages), extras()]);
  return [...settings, ...extra];
}
