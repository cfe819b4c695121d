/**
 * A settings file in config.json's shape, standing where SSM stands when the product runs
 * locally: `{ "EmailSettings": { "SMTPServer": "...", ... }, "ServiceSettings": {...},
 * "EmailTransportSettings": {...}, "SecurityAlerts": { "Recipients": "a@example.com" } }`. Read on every load, so an edit shows
 * within the cache time, as an SSM change does.
 */
import { readFile } from "node:fs/promises";
import { isPlainObject } from "../json.ts";
import { SettingsLoadError } from "./errors.ts";
import { RECIPIENTS_PARAMETER } from "./parameters.ts";
import type { RawSetting } from "./resolve.ts";
import { isSettingName, sectionsOf } from "./schema.ts";
import type { SettingsStore, StoredSettings } from "./store.ts";
import { TRANSPORT_SECTION } from "./transport-fields.ts";

export interface FileSettingsStoreOptions {
  path: string;
  /** A missing file is no settings (true, the default) or an error (false). */
  optional?: boolean;
}

/**
 * JSON.parse's complaint without the stretch of the file V8 quotes in some of them (`Unexpected
 * token 'h', ..."assword": hunter2sec"... is not valid JSON`): the file may hold a password.
 */
function withoutQuotedText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(
    /, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s,
    " (the file's text is not quoted here)",
  );
}

export function fileSettingsStore({ path, optional = true }: FileSettingsStoreOptions): SettingsStore {
  return {
    description: `file ${path}`,
    async read(): Promise<StoredSettings> {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if (optional && (error as NodeJS.ErrnoException).code === "ENOENT")
          return { layer: [], warnings: [], others: {} };
        throw new SettingsLoadError(`Could not read settings file ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new SettingsLoadError(`Settings file ${path} is not JSON: ${withoutQuotedText(error)}`);
      }
      if (!isPlainObject(json))
        throw new SettingsLoadError(`Settings file ${path} must hold an object like config.json`);
      const layer: RawSetting[] = [];
      const warnings: string[] = [];
      const ignored: string[] = [];
      for (const [section, values] of Object.entries(json)) {
        if (!isPlainObject(values)) continue;
        for (const [key, value] of Object.entries(values)) {
          if (isSettingName(key) && sectionsOf(key).includes(section)) {
            layer.push({ setting: key, value, source: { layer: "file", name: `${path} ${section}.${key}` } });
          } else if (section === "EmailSettings" || section === TRANSPORT_SECTION) {
            ignored.push(`${section}.${key}`);
          }
        }
      }

      const recipients = isPlainObject(json.SecurityAlerts) ? json.SecurityAlerts.Recipients : undefined;
      const others: Record<string, string> =
        typeof recipients === "string" ? { [RECIPIENTS_PARAMETER]: recipients } : {};
      return { layer, warnings, others, ignored };
    },
  };
}

/**
 * A stock config.json has a score of EmailSettings this product does not use: one warning for
 * them all, naming the first few.
 */
export function describeIgnored(where: string, ignored: readonly string[]): string {
  const some = ignored.slice(0, 3).join(", ");
  return `${where}: ${ignored.length} key(s) that are no setting of this product are ignored (${some}${ignored.length > 3 ? ", …" : ""})`;
}

/** Layers several stores into one, later ones winning (the local run's embedded SMTP server under a file). */
export function layeredStore(stores: readonly SettingsStore[]): SettingsStore {
  return {
    description: stores.map((s) => s.description).join(" + "),
    async read() {
      const all = await Promise.all(stores.map((s) => s.read()));
      // A setting comes wholly from the last store that has it (both spellings, if it has two).
      const taken = new Set<string>();
      const layer = all.toReversed().flatMap((stored) => {
        const mine = stored.layer.filter((r) => !taken.has(r.setting));
        for (const r of mine) taken.add(r.setting);
        return mine;
      });
      return {
        layer,
        warnings: all.flatMap((s) => s.warnings),
        others: Object.assign({}, ...all.map((s) => s.others)),
        ignored: all.flatMap((s) => s.ignored ?? []),
      };
    },
  };
}
