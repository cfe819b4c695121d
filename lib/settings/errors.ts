import { describeSource, type SettingSource } from "./sources.ts";

/** One rule one value broke. `value` is absent for secrets, so it can be logged as is. */
export interface SettingIssue {
  setting: string;
  source: SettingSource;
  rule: string;
  value?: string;
}

const MAX_ECHO = 80;

export function describeIssue(issue: SettingIssue): string {
  const shown =
    issue.value === undefined
      ? ""
      : ` = ${JSON.stringify(issue.value.length > MAX_ECHO ? `${issue.value.slice(0, MAX_ECHO)}…` : issue.value)}`;
  return `${issue.setting} (${describeSource(issue.source)}${shown}) ${issue.rule}`;
}

/** Settings that were read but break a rule. Stable name for callers: `InvalidSettingsError`. */
export class InvalidSettingsError extends Error {
  override readonly name = "InvalidSettingsError";
  readonly issues: readonly SettingIssue[];

  constructor(issues: readonly SettingIssue[]) {
    super(`Invalid email settings: ${issues.map(describeIssue).join("; ")}`);
    this.issues = issues;
  }
}

/** Settings could not be read at all (SSM unreachable, access denied, bad SETTINGS_PATH). */
export class SettingsLoadError extends Error {
  override readonly name = "SettingsLoadError";
}
