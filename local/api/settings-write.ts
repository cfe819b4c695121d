/**
 * Changing the local run's settings file, the local stand-in for SSM: PUT /api/settings/:name
 * (`{"value": …}`; optional `section`, and `dryRun` to only say whether it would change) and
 * DELETE /api/settings/:name. A value is checked first by the product's own check, as
 * `mm-email settings set` checks one for SSM, and refused with a 400 naming the setting and the
 * rule; nothing is written then. The rest of the file is kept. The password may be set, and is
 * never echoed back. A setting an MM_* variable of the run hides gets a warning.
 */
import { chmod, readFile, rename, stat, writeFile } from "node:fs/promises";
import type { Env } from "../../functions/environment.ts";
import { isPlainObject } from "../../lib/json.ts";
import {
  checkStoredSetting,
  fileSettingsStore,
  PASSWORD_MASK,
  readEnvironmentLayer,
  SETTING_NAMES,
  type SettingName,
} from "../../lib/settings/index.ts";
import { homeSectionOf, isSettingName, SECRET_SETTINGS, sectionsOf } from "../../lib/settings/schema.ts";
import { BadRequest, parseJsonObject, readBody, send } from "../http.ts";
import { localLogLine } from "../pretty-log.ts";
import type { Route } from "./route.ts";

export interface SettingsWriteRoutesDeps {
  env: Env;
  /** The settings file the run reads; undefined when it reads SSM instead. */
  settingsFile: string | undefined;
  log: (line: string) => void;
}

type ConfigJson = Record<string, unknown>;

function settingFrom(raw: string): SettingName {
  const name = decodeURIComponent(raw);
  if (isSettingName(name)) return name;
  throw Object.assign(
    new Error(`unknown setting ${JSON.stringify(name)}: the settings are ${SETTING_NAMES.join(", ")}`),
    { status: 404 },
  );
}

async function readConfig(path: string): Promise<ConfigJson> {
  // The product's own read first: a file it cannot read is not rewritten.
  await fileSettingsStore({ path }).read();
  try {
    return JSON.parse(await readFile(path, "utf8")) as ConfigJson;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
}

/**
 * The file holds secrets (the password, OAuth2 credentials): a new one is readable by its owner
 * alone (0600), an existing one keeps the mode it has.
 */
async function writeConfig(path: string, json: ConfigJson): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o600,
  );
  await writeFile(temporary, `${JSON.stringify(json, null, 2)}\n`, { mode });
  await chmod(temporary, mode); // writeFile's mode is filtered by the umask
  await rename(temporary, path);
}

const held = (json: ConfigJson, section: string, setting: SettingName): unknown =>
  isPlainObject(json[section]) ? json[section][setting] : undefined;

/** A value as an answer may show it: the password masked (an empty one stays empty). */
const shownAs = (setting: SettingName, value: unknown): unknown =>
  value === undefined ? null : SECRET_SETTINGS.has(setting) && value !== "" ? PASSWORD_MASK : value;

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function settingsWriteRoutes({ env, settingsFile, log }: SettingsWriteRoutesDeps): Route[] {
  // One change at a time, so two requests never lose each other's write.
  let chain: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = chain.then(work);
    chain = run.catch(() => {});
    return run;
  };
  const fileOrRefuse = (): string => {
    if (settingsFile === undefined)
      throw Object.assign(
        new Error(
          "this local run reads its settings from SSM (SETTINGS_PATH with an SSM endpoint), not a file: change them there",
        ),
        { status: 409 },
      );
    return settingsFile;
  };
  const overrides = (setting: SettingName): string[] =>
    readEnvironmentLayer(env)
      .filter((r) => r.setting === setting)
      .map(
        (r) =>
          `the local run's environment sets ${(r.source as { name: string }).name}, which overrides ${setting}: the file's value has no effect until that variable is removed`,
      );
  const NAME = /^\/api\/settings\/([^/]+)$/;

  return [
    {
      method: "PUT",
      path: NAME,
      async handle({ req, res, params: [raw = ""] }) {
        const setting = settingFrom(raw);
        const path = fileOrRefuse();
        const body = parseJsonObject(await readBody(req), '{"value": "smtp.example.com"}');
        for (const field of Object.keys(body)) {
          if (!["value", "section", "dryRun"].includes(field))
            throw new BadRequest(
              `unknown field ${JSON.stringify(field)}: the fields are value, section and dryRun`,
              field,
            );
        }
        if (!("value" in body)) throw new BadRequest(`${setting}: the body needs a "value"`, "value");
        const { value, section: asked, dryRun = false } = body;
        if (asked !== undefined && !(typeof asked === "string" && sectionsOf(setting).includes(asked)))
          throw new BadRequest(
            `section of ${setting} must be one of ${sectionsOf(setting).join(", ")}`,
            "section",
          );
        if (typeof dryRun !== "boolean") throw new BadRequest("dryRun must be true or false", "dryRun");
        return serially(async () => {
          const json = await readConfig(path);
          const section =
            (asked as string | undefined) ??
            sectionsOf(setting).find((s) => held(json, s, setting) !== undefined) ??
            homeSectionOf(setting);
          const location = `${section}.${setting}`;
          const { layer } = await fileSettingsStore({ path }).read();
          const invalid = checkStoredSetting(layer, setting, value, {
            layer: "file",
            name: `${path} ${location}`,
          });
          if (invalid) throw new BadRequest(`${invalid}. Nothing was written.`, "value");
          const before = held(json, section, setting);
          const changed = !sameValue(before, value);
          if (changed && !dryRun) {
            json[section] = { ...(isPlainObject(json[section]) ? json[section] : {}), [setting]: value };
            await writeConfig(path, json);
            log(localLogLine("settings", `wrote ${location} to ${path}`));
          }
          return send(res, 200, {
            setting,
            file: path,
            location,
            stored: shownAs(setting, before),
            value: shownAs(setting, value),
            changed,
            written: changed && !dryRun,
            warnings: overrides(setting),
          });
        });
      },
    },
    {
      method: "DELETE",
      path: NAME,
      async handle({ res, params: [raw = ""] }) {
        const setting = settingFrom(raw);
        const path = fileOrRefuse();
        return serially(async () => {
          const json = await readConfig(path);
          const removed: string[] = [];
          for (const section of sectionsOf(setting)) {
            const values = json[section];
            if (!isPlainObject(values) || !Object.hasOwn(values, setting)) continue;
            const { [setting]: _, ...rest } = values;
            json[section] = rest;
            removed.push(`${section}.${setting}`);
          }
          if (removed.length) {
            await writeConfig(path, json);
            log(localLogLine("settings", `removed ${removed.join(", ")} from ${path}`));
          }
          return send(res, 200, { setting, file: path, removed, warnings: overrides(setting) });
        });
      },
    },
  ];
}
