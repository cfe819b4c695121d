/**
 * Which store the local run reads: SSM when SETTINGS_PATH and an SSM endpoint (or region) are
 * configured, so the same parameters as in AWS can be tried locally; otherwise none, and the
 * product runs on the reference defaults plus MM_EMAILSETTINGS_* variables.
 */
import { type SettingsStore, ssmSettingsStore } from "../../lib/settings/index.ts";

type Env = Readonly<Record<string, string | undefined>>;

export function localSettingsStore(env: Env): SettingsStore | null {
  const ssmConfigured = Boolean(env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL || env.AWS_REGION);
  return env.SETTINGS_PATH && ssmConfigured ? ssmSettingsStore({ env }) : null;
}
