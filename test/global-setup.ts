import type { TestProject } from "vitest/node";
import { type BrowserCheck, ensureChromiumHere } from "./helpers/browser.ts";
import { startMoto } from "./helpers/moto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
    /** The browser the console's test drives, or why there is none (test/helpers/browser.ts). */
    browser: BrowserCheck;
  }
}

/**
 * One moto_server for the whole run (each test file uses a root path of its own), and the browser
 * for the console's test, installed first when it is missing and may be.
 */
export default async function setup(project: TestProject) {
  project.provide(
    "browser",
    ensureChromiumHere((line) => process.stderr.write(`${line}\n`)),
  );
  const moto = await startMoto();
  project.provide("motoEndpoint", moto.endpoint);
  return () => moto.stop();
}
