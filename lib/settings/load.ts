import { readEnvironmentLayer } from "./env.ts";
import { describeIgnored } from "./file-store.ts";
import { hiddenStoredValues } from "./hidden.ts";
import { type ResolvedEmailSettings, resolveEmailSettings } from "./resolve.ts";
import { ssmSettingsStore } from "./ssm-store.ts";
import type { SettingsStore } from "./store.ts";

export interface LoadEmailSettingsOptions {
  /** Environment for MM_* overrides (and SETTINGS_PATH for the default store). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Stored settings. Default: SSM under SETTINGS_PATH. `null`: defaults and environment only. */
  store?: SettingsStore | null;
}

export interface LoadedEmailSettings extends ResolvedEmailSettings {
  warnings: string[];
  /** Other plain parameters the store holds under the root, by relative name. */
  others: Readonly<Record<string, string>>;
}

/**
 * Defaults, then the store (SSM), then the environment: later wins, every value keeps its source.
 * Throws SettingsLoadError when the store cannot be read, InvalidSettingsError for bad values.
 */
export async function loadEmailSettings(
  options: LoadEmailSettingsOptions = {},
): Promise<LoadedEmailSettings> {
  const env = options.env ?? process.env;
  const store = options.store === undefined ? ssmSettingsStore({ env }) : options.store;
  const stored = store ? await store.read() : { layer: [], warnings: [], others: {} };
  const environment = readEnvironmentLayer(env);
  return {
    ...resolveEmailSettings([stored.layer, environment]),
    warnings: [
      ...stored.warnings,
      ...(stored.ignored?.length && store ? [describeIgnored(store.description, stored.ignored)] : []),
      ...hiddenStoredValues(stored.layer, environment),
    ],
    others: stored.others,
  };
}
