/**
 * Where the settings live in SSM Parameter Store, and the read that fetches them (which a cold
 * start begins at init: functions/cold-start.ts).
 *
 * One parameter per setting under a root path, mirroring the config.json path:
 * `.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`.
 */
import { getParameters, type SsmApi, type StoredParameter } from "../aws-ssm/index.ts";
import { SettingsLoadError } from "./errors.ts";
import {
  homeSectionOf,
  REFERENCE_SETTING_NAMES,
  type SettingName,
  sectionsOf,
  TRANSPORT_SETTING_NAMES,
} from "./schema.ts";

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

export const parameterNameFor = (
  root: string,
  setting: SettingName,
  section: string = homeSectionOf(setting),
): string => `${root}/${section}/${setting}`;

/**
 * The variable that makes a function read the product's own settings from SSM too
 * (`<root>/EmailTransportSettings/…`): the stack sets it when its context has
 * emailTransportSettings, and grants those parameters then, so a deployment that uses none of
 * them keeps exactly its template (and its two GetParameters calls). Their environment
 * variables are read either way.
 */
export const TRANSPORT_SETTINGS_VARIABLE = "READ_TRANSPORT_SETTINGS";

/** Whether this environment's function reads the product's own settings from SSM. */
export const readsTransportSettings = (env: Readonly<Record<string, string | undefined>>): boolean =>
  env[TRANSPORT_SETTINGS_VARIABLE] === "true";

export interface StoredNamesOptions {
  /** The product's own settings (EmailTransportSettings) too. Default false: the reference's alone. */
  transportSettings?: boolean;
}

/** The security alerts' recipients, relative to the root (a plain parameter, not a setting). */
export const RECIPIENTS_PARAMETER = "SecurityAlerts/Recipients";

function loadError(path: string, error: unknown): SettingsLoadError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new SettingsLoadError(`Could not read SSM parameters under ${path}: ${reason}`, { cause: error });
}

/**
 * Every parameter the settings are read from, by full name: each setting under
 * `<root>/EmailSettings/` (EnableSecurityFixAlert under ServiceSettings too), and the extra
 * parameters, and the product's own settings when asked. The one list both the read and the
 * functions' IAM policy (infra) are built from.
 */
export function storedParameterNames(
  root: string,
  { transportSettings = false }: StoredNamesOptions = {},
): string[] {
  return [
    ...REFERENCE_SETTING_NAMES.flatMap((setting) =>
      sectionsOf(setting).map((section) => parameterNameFor(root, setting, section)),
    ),
    `${root}/${RECIPIENTS_PARAMETER}`,
    ...(transportSettings ? TRANSPORT_SETTING_NAMES.map((setting) => parameterNameFor(root, setting)) : []),
  ];
}

/** GetParameters takes at most 10 names a call. */
const NAMES_PER_CALL = 10;

/**
 * The stored settings in one round of requests: GetParameters by name, the names split into
 * calls of ten (two calls for the fifteen names), all at once. By name rather than by path: a
 * page of GetParametersByPath waits for the one before it, so reading the folder took two round
 * trips; and nothing else under the root is read, so IAM names exactly these parameters and the
 * load is independent of what else lives there (the security alerts' sent markers, say).
 */
export async function readStoredParameters(
  api: SsmApi,
  root: string,
  options: StoredNamesOptions = {},
): Promise<StoredParameter[]> {
  const names = storedParameterNames(root, options);
  const calls = [];
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    calls.push(
      getParameters(api, names.slice(i, i + NAMES_PER_CALL)).catch((error: unknown) => {
        throw loadError(root || "/", error);
      }),
    );
  }
  return (await Promise.all(calls)).flat();
}
