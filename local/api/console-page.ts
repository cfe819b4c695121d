/** GET of the console page's own files (local/console/): the page, its script modules and its style sheet. */
import { readFile } from "node:fs/promises";
import { send } from "../http.ts";
import type { Route } from "./route.ts";

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const CONSOLE_FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", HTML],
  "/app.js": ["app.js", JS],
  "/dom.js": ["dom.js", JS],
  "/settings-form.js": ["settings-form.js", JS],
  "/smtp.js": ["smtp.js", JS],
  "/queue.js": ["queue.js", JS],
  "/mail.js": ["mail.js", JS],
  "/style.css": ["style.css", CSS],
};

export function consolePageRoutes(): Route[] {
  return Object.entries(CONSOLE_FILES).map(([path, [file, type]]) => ({
    method: "GET",
    path,
    handle: async ({ res }) =>
      send(res, 200, await readFile(new URL(`../console/${file}`, import.meta.url)), type),
  }));
}
