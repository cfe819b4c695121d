/**
 * The SSM Parameter Store layer: one parameter per setting under a root path, mirroring the
 * config.json path (`.EmailSettings.SMTPServer` is `<root>/EmailSettings/SMTPServer`).
 */
import { type SsmApi, type StoredParameter, ssmApiFromEnv } from "../aws-ssm/index.ts";
import {
  parameterNameFor,
  readStoredParameters,
  readsTransportSettings,
  settingsRootPath,
} from "./parameters.ts";
import { takePrefetched } from "./prefetch.ts";
import { SECRET_SETTINGS, SETTING_NAMES, sectionsOf } from "./schema.ts";
import type { SettingsStore, StoredSettings } from "./store.ts";
import { TRANSPORT_SECTION } from "./transport-fields.ts";

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
      if (SECRET_SETTINGS.has(setting) && p.type !== "SecureString") {
        const what = setting === "SMTPPassword" ? "the password" : `${setting}, a secret,`;
        warnings.push(`${name} is a ${p.type} parameter: store ${what} as a SecureString`);
      }
    }
  }
  const settingNames = new Set(layer.map((r) => r.source.name));
  const others: Record<string, string> = {};
  for (const p of parameters) {
    const isOther =
      !settingNames.has(p.name) &&
      !p.name.startsWith(`${root}/EmailSettings/`) &&
      !p.name.startsWith(`${root}/${TRANSPORT_SECTION}/`);
    if (isOther && p.type !== "SecureString" && p.name.startsWith(`${root}/`)) {
      others[p.name.slice(root.length + 1)] = p.value;
    }
  }
  return { layer, warnings, others };
}

export interface SsmSettingsStoreOptions {
  /** Default: ssmApiFromEnv(env): signed requests from the environment's credentials, else the SDK. */
  api?: SsmApi;
  /** Root path. Default: SETTINGS_PATH from `env`, else /mattermost. */
  root?: string;
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Read the product's own settings (`<root>/EmailTransportSettings/…`) too. Default: as the
   * environment's READ_TRANSPORT_SETTINGS says (parameters.ts).
   */
  transportSettings?: boolean;
}

/** The settings in SSM. Its first read takes the cold start's prefetched answer, if there is one. */
export function ssmSettingsStore(options: SsmSettingsStoreOptions = {}): SettingsStore {
  const env = options.env ?? process.env;
  const root = options.root ?? settingsRootPath(env);
  const names = { transportSettings: options.transportSettings ?? readsTransportSettings(env) };
  let api = options.api;
  return {
    description: `SSM ${root || "/"}`,
    async read() {
      api ??= ssmApiFromEnv(env);
      const fresh = api;
      const prefetched = takePrefetched(root, names);
      const parameters = prefetched
        ? await prefetched.catch(() => readStoredParameters(fresh, root, names))
        : await readStoredParameters(fresh, root, names);
      return ssmLayer(parameters, root);
    },
  };
}
