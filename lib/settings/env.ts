/**
 * The environment layer: `MM_<SECTION>_<SETTING>`, matched case-insensitively as the reference
 * server does (the product's own settings under MM_EMAILTRANSPORTSETTINGS_). Values stay strings
 * here; the schema parses them.
 */
import type { SettingsLayer } from "./resolve.ts";
import { homeSectionOf, SETTING_NAMES, type SettingName, sectionsOf } from "./schema.ts";

/** `MM_EMAILSETTINGS_SMTPPORT` → SMTPPort, and the ServiceSettings alias of EnableSecurityFixAlert. */
const VARIABLES: ReadonlyMap<string, SettingName> = new Map(
  SETTING_NAMES.flatMap((setting) =>
    sectionsOf(setting).map((section) => [`MM_${section}_${setting}`.toUpperCase(), setting] as const),
  ),
);

/** The canonical variable for a setting (its home section's spelling: MM_EMAILSETTINGS_…, MM_EMAILTRANSPORTSETTINGS_…). */
export const environmentVariableFor = (setting: SettingName): string =>
  `MM_${homeSectionOf(setting)}_${setting}`.toUpperCase();

export function readEnvironmentLayer(env: Readonly<Record<string, string | undefined>>): SettingsLayer {
  const layer = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.toUpperCase().startsWith("MM_")) continue;
    const setting = VARIABLES.get(name.toUpperCase());
    if (setting) layer.push({ setting, value, source: { layer: "environment" as const, name } });
  }
  return layer;
}
