import type { TestProject } from "vitest/node";
import { startMoto } from "./helpers/moto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/** One moto_server for the whole run; each test file uses a root path of its own. */
export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide("motoEndpoint", moto.endpoint);
  return () => moto.stop();
}
