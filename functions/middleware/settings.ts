/**
 * Puts the effective EmailSettings on the context, from the container's cached loader, and logs
 * their warnings once per load. The loader (createFunction in functions/create-function.ts)
 * registers the settings' secrets with the container's logger as it reads them, so no line can
 * carry them.
 */
import type { MiddlewareObj } from "@middy/core";
import type { LoadedEmailSettings } from "../../lib/settings/index.ts";
import type { LoggingContext } from "./logging.ts";

export type SettingsContext = LoggingContext & { settings: LoadedEmailSettings };

export interface EmailSettingsMiddlewareOptions {
  /** Shared by warm invocations: see createCachedLoader. */
  load: () => Promise<LoadedEmailSettings>;
}

export function emailSettings<TEvent, TResult>({
  load,
}: EmailSettingsMiddlewareOptions): MiddlewareObj<TEvent, TResult, Error, SettingsContext> {
  let warned: LoadedEmailSettings | undefined;
  return {
    name: "emailSettings",
    async before(request) {
      const loaded = await load();
      request.context.settings = loaded;
      if (warned !== loaded) {
        warned = loaded;
        for (const warning of loaded.warnings) request.context.logger.warn(warning);
      }
    },
  };
}
