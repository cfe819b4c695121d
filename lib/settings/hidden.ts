/**
 * A stored value an environment variable hides has no effect, however often an operator changes
 * it: the reference server behaves so, and so do we, but we say so. One message, given by the
 * functions' log when they load the settings, the local run's settings page and `mm-email
 * settings show` / `validate`.
 */
import type { SettingsLayer } from "./resolve.ts";
import { describeSource } from "./sources.ts";

/** One warning per stored value an environment variable overrides, naming both. */
export function hiddenStoredValues(stored: SettingsLayer, environment: SettingsLayer): string[] {
  const warnings: string[] = [];
  for (const held of stored) {
    const over = environment.find((e) => e.setting === held.setting);
    if (over?.source.layer !== "environment") continue;
    warnings.push(
      `${over.source.name} overrides ${held.setting}: the value of ${describeSource(held.source)} has no effect until that variable is removed`,
    );
  }
  return warnings;
}
