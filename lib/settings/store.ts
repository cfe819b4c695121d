/**
 * What a settings store is: SSM Parameter Store in AWS (ssm-store.ts), a config.json-shaped file
 * when the product runs locally (file-store.ts). Both give the same shape.
 */
import type { SettingsLayer } from "./resolve.ts";

export interface StoredSettings {
  layer: SettingsLayer;
  /** Things an operator should fix that do not stop the product (a password stored as plain String). */
  warnings: string[];
  /** Other plain parameters under the root, by relative name (`SecurityAlerts/Recipients`). */
  others: Readonly<Record<string, string>>;
  /** Keys the store holds that are no setting of this product (`EmailSettings.PushNotificationServer`); one warning sums them up. */
  ignored?: readonly string[];
}

export interface SettingsStore {
  /** Human-readable, for logs and the console: "SSM /mattermost". */
  readonly description: string;
  read(): Promise<StoredSettings>;
}
