/**
 * `npm start`: the local run. For now it loads the effective EmailSettings exactly as the
 * functions do (defaults, then SSM when configured, then MM_EMAILSETTINGS_* variables) and
 * prints them with their sources, password masked.
 */
import {
  describeSource,
  loadEmailSettings,
  redactSettings,
  SETTING_NAMES,
} from "../../lib/settings/index.ts";
import { localSettingsStore } from "./settings-source.ts";

const store = localSettingsStore(process.env);
try {
  const loaded = await loadEmailSettings({ store });
  const redacted = redactSettings(loaded);
  console.log(
    `Effective EmailSettings (stored settings: ${store?.description ?? "none, defaults and environment only"})\n`,
  );
  const width = Math.max(...SETTING_NAMES.map((n) => n.length));
  for (const name of SETTING_NAMES) {
    const { value, source } = redacted[name];
    console.log(`  ${name.padEnd(width)}  ${JSON.stringify(value).padEnd(34)} ${describeSource(source)}`);
  }
  for (const warning of loaded.warnings) console.warn(`\nwarning: ${warning}`);
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
