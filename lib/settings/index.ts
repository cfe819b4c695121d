export {
  type CachedLoader,
  type CachedLoaderOptions,
  createCachedLoader,
  DEFAULT_CACHE_SECONDS,
} from "./cache.ts";
export { environmentVariableFor, readEnvironmentLayer } from "./env.ts";
export { describeIssue, InvalidSettingsError, type SettingIssue, SettingsLoadError } from "./errors.ts";
export { type FileSettingsStoreOptions, fileSettingsStore, layeredStore } from "./file-store.ts";
export { type LoadEmailSettingsOptions, type LoadedEmailSettings, loadEmailSettings } from "./load.ts";
export {
  DEFAULT_SETTINGS_PATH,
  parameterNameFor,
  RECIPIENTS_PARAMETER,
  readStoredParameters,
  settingsRootPath,
  storedParameterNames,
} from "./parameters.ts";
export { type RedactedEmailSettings, redactSettings } from "./redact.ts";
export {
  type RawSetting,
  type ResolvedEmailSettings,
  resolveEmailSettings,
  type SettingsLayer,
} from "./resolve.ts";
export {
  CONNECTION_SECURITY,
  type ConnectionSecurity,
  DEFAULT_SMTP_PORT,
  type EmailSettings,
  EmailSettingsSchema,
  PASSWORD_MASK,
  SETTING_NAMES,
  type SettingName,
} from "./schema.ts";
export { describeSource, type SettingSource } from "./sources.ts";
export { type SsmSettingsStoreOptions, ssmLayer, ssmSettingsStore } from "./ssm-store.ts";
export type { SettingsStore, StoredSettings } from "./store.ts";
