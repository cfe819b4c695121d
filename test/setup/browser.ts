/**
 * The browser project's set-up: the browser the console's test drives, found, or installed first
 * when it is missing and may be (test/helpers/browser.ts). Only this project pays for it.
 */
import type { TestProject } from "vitest/node";
import { type BrowserCheck, ensureChromiumHere } from "../helpers/browser.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The browser the console's test drives, or why there is none. */
    browser: BrowserCheck;
  }
}

export default function setup(project: TestProject) {
  project.provide(
    "browser",
    ensureChromiumHere((line) => process.stderr.write(`${line}\n`)),
  );
}
