export {
  type CachedLoader,
  type CachedLoaderOptions,
  createCachedLoader,
  DEFAULT_CACHE_SECONDS,
} from "./cache.ts";
export { credentialInUse, PASSWORD_DESTINATION, TOKEN_DESTINATION } from "./credentials.ts";
export { environmentVariableFor, readEnvironmentLayer } from "./env.ts";
export { describeIssue, InvalidSettingsError, type SettingIssue, SettingsLoadError } from "./errors.ts";
export {
  describeIgnored,
  type FileSettingsStoreOptions,
  fileSettingsStore,
  layeredStore,
} from "./file-store.ts";
export { hiddenStoredValues } from "./hidden.ts";
export { type LoadEmailSettingsOptions, type LoadedEmailSettings, loadEmailSettings } from "./load.ts";
export {
  DEFAULT_SETTINGS_PATH,
  parameterNameFor,
  RECIPIENTS_PARAMETER,
  readStoredParameters,
  readsTransportSettings,
  type StoredNamesOptions,
  settingsRootPath,
  storedParameterNames,
  TRANSPORT_SETTINGS_VARIABLE,
} from "./parameters.ts";
export { type RedactedEmailSettings, redactSettings } from "./redact.ts";
export { type SettingRequirement, sendingRequirements } from "./requirements.ts";
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
  homeSectionOf,
  isSettingName,
  MULTILINE_SETTINGS,
  PASSWORD_MASK,
  REFERENCE_PLACEHOLDER_ADDRESS,
  REFERENCE_SETTING_NAMES,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
  sectionsOf,
  TRANSPORT_SETTING_NAMES,
} from "./schema.ts";
export { checkStoredSetting, resolveLeniently } from "./setting-check.ts";
export { describeSource, type SettingSource } from "./sources.ts";
export { type SsmSettingsStoreOptions, ssmLayer, ssmSettingsStore } from "./ssm-store.ts";
export type { SettingsStore, StoredSettings } from "./store.ts";
export {
  isOAuth2Method,
  type OAuth2Method,
  PEM_CERTIFICATE,
  parseMessageTags,
  parseServiceAccountKey,
  type ServiceAccountKey,
  SMTP_AUTH_METHODS,
  type SmtpAuthMethod,
  TRANSPORT_SECTION,
  TRANSPORTS,
  type Transport,
} from "./transport-fields.ts";
