/**
 * The local server's routes in one list: the console page, the SMTP settings (read, and changed in
 * the settings file) and Test Connection, notifications and security alerts, the queue and its
 * dead letters, the embedded server's limits, and captured mail.
 */
import type { Env } from "../../functions/environment.ts";
import type { SettingsStore } from "../../lib/settings/index.ts";
import type { Mailbox } from "../mailbox.ts";
import type { LocalQueue } from "../queue.ts";
import { consolePageRoutes } from "./console-page.ts";
import { mailRoutes } from "./mail.ts";
import { notificationRoutes } from "./notifications.ts";
import { queueRoutes } from "./queue.ts";
import { routeRequests } from "./route.ts";
import { type SettingsRoutesDeps, settingsRoutes } from "./settings.ts";
import { settingsWriteRoutes } from "./settings-write.ts";
import { smtpLimitsRoutes } from "./smtp-limits.ts";

export interface ConsoleApiDeps {
  env: Env;
  store: SettingsStore;
  /** The settings file the routes change; undefined when the run reads SSM. */
  settingsFile: string | undefined;
  mailbox: Mailbox;
  queue: LocalQueue;
  connectionTest: SettingsRoutesDeps["connectionTest"];
  /** One security-alert check: the status and body to answer with. */
  runAlerts: () => Promise<{ status: number; body: unknown }>;
  /** Terminal lines. */
  log: (line: string) => void;
}

/** The request listener for the local server. */
export function consoleApi(deps: ConsoleApiDeps) {
  return routeRequests([
    ...consolePageRoutes(),
    ...settingsRoutes(deps),
    ...settingsWriteRoutes(deps),
    ...notificationRoutes(deps),
    ...queueRoutes(deps),
    ...smtpLimitsRoutes(deps),
    ...mailRoutes(deps.mailbox),
  ]);
}
