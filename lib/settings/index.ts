export {
  type CachedLoader,
  type CachedLoaderOptions,
  cacheSecondsFromEnv,
  createCachedLoader,
} from "./cache.ts";
export { environmentVariableFor, readEnvironmentLayer } from "./env.ts";
export { describeIssue, InvalidSettingsError, type SettingIssue, SettingsLoadError } from "./errors.ts";
export { type FileSettingsStoreOptions, fileSettingsStore, layeredStore } from "./file-store.ts";
export { type LoadEmailSettingsOptions, type LoadedEmailSettings, loadEmailSettings } from "./load.ts";
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
  type EmailSettings,
  EmailSettingsSchema,
  PASSWORD_MASK,
  SETTING_NAMES,
  type SettingName,
} from "./schema.ts";
export { describeSource, type SettingSource } from "./sources.ts";
export {
  DEFAULT_SETTINGS_PATH,
  EXTRA_PARAMETERS,
  parameterNameFor,
  readStoredParameters,
  settingsRootPath,
} from "./ssm.ts";
export {
  liteSsmApi,
  type SsmApi,
  SsmError,
  type SsmOperation,
  ssmApiFromEnv,
  ssmEndpoint,
} from "./ssm-api.ts";
export { type SettingsStore, type StoredSettings, ssmSettingsStore } from "./store.ts";
