/**
 * The SSM Parameter Store layer: one parameter per setting under a root path, mirroring the
 * config.json path (`.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`).
 */
import { SettingsLoadError } from "./errors.ts";
import { SETTING_NAMES, type SettingName, sectionsOf } from "./schema.ts";
import type { SsmApi } from "./ssm-api.ts";
import type { StoredSettings } from "./store.ts";

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

export const parameterNameFor = (root: string, setting: SettingName, section = "EmailSettings"): string =>
  `${root}/${section}/${setting}`;

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

/**
 * Picks the settings out of a parameter tree. Other plain parameters under the root are kept by
 * their name relative to it (`SecurityAlerts/Recipients`) for the capabilities that need them;
 * other SecureStrings are dropped.
 */
export function ssmLayer(parameters: readonly StoredParameter[], root: string): StoredSettings {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const layer = [];
  const warnings: string[] = [];
  for (const setting of SETTING_NAMES) {
    for (const section of sectionsOf(setting)) {
      const name = parameterNameFor(root, setting, section);
      const p = byName.get(name);
      if (!p) continue;
      layer.push({ setting, value: p.value, source: { layer: "ssm" as const, name } });
      if (setting === "SMTPPassword" && p.type !== "SecureString") {
        warnings.push(`${name} is a ${p.type} parameter: store the password as a SecureString`);
      }
    }
  }
  const settingNames = new Set(layer.map((r) => r.source.name));
  const others: Record<string, string> = {};
  for (const p of parameters) {
    const isOther = !settingNames.has(p.name) && !p.name.startsWith(`${root}/EmailSettings/`);
    if (isOther && p.type !== "SecureString" && p.name.startsWith(`${root}/`)) {
      others[p.name.slice(root.length + 1)] = p.value;
    }
  }
  return { layer, warnings, others };
}
