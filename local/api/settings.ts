/**
 * The SMTP page's routes: GET /api/settings (every setting with its value, source and whether the
 * environment locks it, the store's warnings and the EHLO name the functions give) and POST /email/test (Test Connection, through the connection-test handler).
 */
import type { createHandler as createConnectionTest } from "../../functions/connection-test.ts";
import type { Env, FunctionEnvName } from "../../functions/environment.ts";
import {
  credentialInUse,
  environmentVariableFor,
  loadEmailSettings,
  redactSettings,
  SETTING_NAMES,
  type SettingsStore,
} from "../../lib/settings/index.ts";
import { ehloNameFor } from "../../lib/smtp/ehlo.ts";
import { readBody, send } from "../http.ts";
import { httpApiPostEvent, localContext } from "../lambda.ts";
import type { Route } from "./route.ts";

export interface SettingsRoutesDeps {
  env: Env;
  store: SettingsStore;
  /** The connection-test function, as deployed. */
  connectionTest: ReturnType<typeof createConnectionTest>;
}

export function settingsRoutes({ env, store, connectionTest }: SettingsRoutesDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/api/settings",
      async handle({ res }) {
        try {
          const loaded = await loadEmailSettings({ env, store });
          const redacted = redactSettings(loaded);
          const settings = Object.fromEntries(
            SETTING_NAMES.map((name) => [
              name,
              {
                ...redacted[name],
                variable: environmentVariableFor(name),
                readOnly: redacted[name].source.layer === "environment",
              },
            ]),
          );
          const ehloName = ehloNameFor(
            loaded.values,
            env["MM_SERVICESETTINGS_SITEURL" satisfies FunctionEnvName],
          );
          // The credential these settings send and where it goes (lib/settings/credentials.ts), so the
          // console asks before a Save sends a stored one somewhere else, as mm-email does.
          const credential = credentialInUse(loaded.values);
          return send(res, 200, {
            settings,
            store: store.description,
            warnings: loaded.warnings,
            ehloName,
            ...(credential ? { credential } : {}),
          });
        } catch (error) {
          return send(res, 500, { error: (error as Error).message });
        }
      },
    },
    {
      method: "POST",
      path: "/email/test",
      async handle({ req, res, path }) {
        const event = httpApiPostEvent(req, path, await readBody(req));
        const result = await connectionTest(event, localContext("connection-test", 29_000));
        return send(
          res,
          result.statusCode ?? 200,
          result.body ?? "",
          String(result.headers?.["content-type"] ?? "application/json"),
        );
      },
    },
  ];
}
