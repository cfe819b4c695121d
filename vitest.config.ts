/**
 * The test run in four projects, each told by where a test file is and its name
 * (docs/development.md#test-projects), so the tests that need no server do not wait on Python:
 *
 * - unit: every other `*.test.ts` (test/lib, test/infra, test/helpers, test/): no server, no
 *   moto_server; listening on a port fails (test/setup/no-servers.ts);
 * - integration: `*.integration.test.ts`, and everything under test/functions, test/local,
 *   test/cli and test/docs (they drive the functions, the local run and the command against real
 *   servers), with one moto_server (test/setup/moto.ts);
 * - browser: `*.browser.test.ts`, with the browser found or installed (test/setup/browser.ts);
 * - load: test/load/, with its own moto_server.
 *
 * `vitest run` runs them all; `vitest run --project unit` one.
 */
import { defineConfig } from "vitest/config";

const LOAD = "test/load/**";
const BROWSER = "test/**/*.browser.test.ts";
const INTEGRATION = [
  "test/**/*.integration.test.ts",
  "test/**/*.contract.test.ts",
  "test/functions/**/*.test.ts",
  "test/local/**/*.test.ts",
  "test/cli/**/*.test.ts",
  "test/docs/**/*.test.ts",
];
const NEVER = ["node_modules/**", "test/bench/**"];

export default defineConfig({
  test: {
    // Never touch a developer's real AWS account from a test.
    env: {
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    testTimeout: 20_000,
    hookTimeout: 40_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [...NEVER, LOAD, BROWSER, ...INTEGRATION],
          setupFiles: ["test/setup/no-servers.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: INTEGRATION,
          exclude: [...NEVER, LOAD, BROWSER],
          globalSetup: ["test/setup/moto.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: [BROWSER],
          exclude: [...NEVER, LOAD],
          globalSetup: ["test/setup/browser.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "load",
          include: ["test/load/**/*.test.ts"],
          exclude: NEVER,
          globalSetup: ["test/setup/moto.ts"],
        },
      },
    ],
  },
});
