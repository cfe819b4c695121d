/**
 * The integration and load projects' set-up: one moto_server for the project's run (each test
 * file uses a root path of its own), its endpoint provided as `motoEndpoint`. The unit and browser
 * projects start none, so they run without Python (docs/development.md#test-projects).
 */
import type { TestProject } from "vitest/node";
import { startMoto } from "../helpers/moto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide("motoEndpoint", moto.endpoint);
  return () => moto.stop();
}
