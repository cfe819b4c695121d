/**
 * The SSM Parameter Store layer: one parameter per setting under a root path, mirroring the
 * config.json path (`.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`).
 */
import {
  GetParametersByPathCommand,
  type GetParametersByPathCommandOutput,
  type SSMClient,
} from "@aws-sdk/client-ssm";
import { SettingsLoadError } from "./errors.ts";
import { SETTING_NAMES, type SettingName, sectionsOf } from "./schema.ts";
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
 * Every parameter under the root, decrypted, in as few requests as SSM allows: by path,
 * recursively, 10 a page (the API's maximum), following NextToken. Bounded so that a runaway
 * tree cannot keep a Lambda paging until its timeout.
 */
export async function readParameterTree(
  client: SSMClient,
  root: string,
  { maxPages = 50 }: { maxPages?: number } = {},
): Promise<StoredParameter[]> {
  const out: StoredParameter[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    if (++pages > maxPages) {
      throw new SettingsLoadError(
        `More than ${maxPages * 10} parameters under ${root || "/"}: keep this product's parameters under a root of their own (SETTINGS_PATH)`,
      );
    }
    let page: GetParametersByPathCommandOutput;
    try {
      page = await client.send(
        new GetParametersByPathCommand({
          Path: root || "/",
          Recursive: true,
          WithDecryption: true,
          MaxResults: 10,
          NextToken: nextToken,
        }),
      );
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SettingsLoadError(`Could not read SSM parameters under ${root || "/"}: ${reason}`, {
        cause: error,
      });
    }
    for (const p of page.Parameters ?? []) {
      if (p.Name && p.Value !== undefined) {
        out.push({ name: p.Name, value: p.Value, type: (p.Type ?? "String") as StoredParameter["type"] });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
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
    if (!settingNames.has(p.name) && p.type !== "SecureString" && p.name.startsWith(`${root}/`)) {
      others[p.name.slice(root.length + 1)] = p.value;
    }
  }
  return { layer, warnings, others };
}
