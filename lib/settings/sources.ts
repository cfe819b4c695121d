/** Where a resolved value came from, so the console and error messages can say so. */
export type SettingSource =
  | { layer: "default" }
  /** `name` is the SSM parameter's full name. */
  | { layer: "ssm"; name: string }
  /** `name` is the settings file's path and the key inside it. */
  | { layer: "file"; name: string }
  /** `name` is the environment variable as spelled in the environment. */
  | { layer: "environment"; name: string }
  /** A value given for one request only (the connection test's overrides). */
  | { layer: "request"; name: string }
  /** Supplied by the local run itself (its embedded SMTP server); `name` says what. */
  | { layer: "local"; name: string }
  /** The CDK app's context (cdk.json or `-c`); `name` is the key and setting, `emailSettings.SMTPPort`. */
  | { layer: "context"; name: string };

export type SourceLayer = SettingSource["layer"];

export const DEFAULT_SOURCE: SettingSource = { layer: "default" };

const LAYER_WORDS: Record<SourceLayer, string> = {
  default: "default",
  ssm: "SSM parameter",
  file: "settings file",
  environment: "environment variable",
  request: "request field",
  local: "local run:",
  context: "cdk context",
};

export function describeSource(source: SettingSource): string {
  return source.layer === "default" ? "the default" : `${LAYER_WORDS[source.layer]} ${source.name}`;
}
