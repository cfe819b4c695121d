/**
 * Where stored settings live: SSM Parameter Store in AWS. (The local run adds a config.json file
 * store with the same shape.)
 */

import { takePrefetched } from "./prefetch.ts";
import type { SettingsLayer } from "./resolve.ts";
import { readStoredParameters, settingsRootPath, ssmLayer } from "./ssm.ts";
import { type SsmApi, ssmApiFromEnv } from "./ssm-api.ts";

export interface StoredSettings {
  layer: SettingsLayer;
  /** Things an operator should fix that do not stop the product (a password stored as plain String). */
  warnings: string[];
  /** Other plain parameters under the root, by relative name (`SecurityAlerts/Recipients`). */
  others: Readonly<Record<string, string>>;
}

export interface SettingsStore {
  /** Human-readable, for logs and the console: "SSM /mattermost". */
  readonly description: string;
  read(): Promise<StoredSettings>;
}

export interface SsmSettingsStoreOptions {
  /** Default: ssmApiFromEnv(env): signed requests from the environment's credentials, else the SDK. */
  api?: SsmApi;
  /** Root path. Default: SETTINGS_PATH from `env`, else /mattermost. */
  root?: string;
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function ssmSettingsStore(options: SsmSettingsStoreOptions = {}): SettingsStore {
  const root = options.root ?? settingsRootPath(options.env ?? process.env);
  let api = options.api;
  return {
    description: `SSM ${root || "/"}`,
    async read() {
      api ??= ssmApiFromEnv(options.env ?? process.env);
      const fresh = api;
      const prefetched = takePrefetched(root);
      const parameters = prefetched
        ? await prefetched.catch(() => readStoredParameters(fresh, root))
        : await readStoredParameters(fresh, root);
      return ssmLayer(parameters, root);
    },
  };
}
