/**
 * Where the settings live in SSM Parameter Store, and the read that fetches them. Kept apart from
 * the schema (and so from zod) so that a cold start can begin this I/O before the rest of the
 * code is even loaded (functions/cold-start.ts).
 *
 * One parameter per setting under a root path, mirroring the config.json path:
 * `.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`.
 */
import { getParameters, getParametersByPath, type SsmApi, type StoredParameter } from "../aws-ssm/index.ts";
import { SettingsLoadError } from "./errors.ts";

export const DEFAULT_SETTINGS_PATH = "/mattermost";
const VALID_PATH = /^\/[A-Za-z0-9_.\-/]*$/;

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

export const parameterNameFor = (root: string, setting: string, section = "EmailSettings"): string =>
  `${root}/${section}/${setting}`;

/** The security alerts' recipients, relative to the root (a plain parameter, not a setting). */
export const RECIPIENTS_PARAMETER = "SecurityAlerts/Recipients";

/**
 * Parameters read outside `<root>/EmailSettings/`, by name relative to the root: the reference
 * server's place for EnableSecurityFixAlert, and the security alerts' recipients.
 */
export const EXTRA_PARAMETERS = ["ServiceSettings/EnableSecurityFixAlert", RECIPIENTS_PARAMETER] as const;

function loadError(path: string, error: unknown): SettingsLoadError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new SettingsLoadError(`Could not read SSM parameters under ${path}: ${reason}`, { cause: error });
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
  const path = `${root}/EmailSettings`;
  const settings = getParametersByPath(api, path, { maxPages }).catch((error: unknown) => {
    if ((error as Error).name === "TooManyParametersError") {
      throw new SettingsLoadError(
        `More than ${maxPages * 10} parameters under ${path}: only the settings belong there`,
      );
    }
    throw loadError(path, error);
  });
  const extras = getParameters(
    api,
    EXTRA_PARAMETERS.map((n) => `${root}/${n}`),
  ).catch((error: unknown) => {
    throw loadError(root || "/", error);
  });
  return (await Promise.all([settings, extras])).flat();
}
