/**
 * Where stored settings live: SSM Parameter Store in AWS. (The local run adds a config.json file
 * store with the same shape.)
 */
import { SSMClient, type SSMClientConfig } from "@aws-sdk/client-ssm";
import type { SettingsLayer } from "./resolve.ts";
import { readStoredParameters, settingsRootPath, ssmLayer } from "./ssm.ts";

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

/**
 * An SSM client configured for Lambda: short connection and request timeouts so an unreachable
 * endpoint fails fast instead of eating the invocation. The SDK itself honours the standard
 * endpoint variables (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL), so a local server needs no
 * project-specific setting.
 */
export function createSsmClient(config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({
    maxAttempts: 3,
    // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes, and waits on.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    ...config,
  });
}

export interface SsmSettingsStoreOptions {
  /** Default: a client from createSsmClient(). */
  client?: SSMClient;
  /** Root path. Default: SETTINGS_PATH from `env`, else /mattermost. */
  root?: string;
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function ssmSettingsStore(options: SsmSettingsStoreOptions = {}): SettingsStore {
  const root = options.root ?? settingsRootPath(options.env ?? process.env);
  let client = options.client;
  return {
    description: `SSM ${root || "/"}`,
    async read() {
      client ??= createSsmClient();
      return ssmLayer(await readStoredParameters(client, root), root);
    },
  };
}
