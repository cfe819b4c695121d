import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
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
  },
});
