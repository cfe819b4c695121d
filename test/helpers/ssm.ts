/** Seeding parameters in the run's moto_server, each test under a root of its own. */
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { inject } from "vitest";
import { createSsmClient, sdkSsmApi } from "../../lib/aws-ssm/sdk-client.ts";
import {
  homeSectionOf,
  isSettingName,
  SECRET_SETTINGS,
  ssmSettingsStore,
  TRANSPORT_SETTINGS_VARIABLE,
} from "../../lib/settings/index.ts";

let n = 0;

export function ssmFixture() {
  const endpoint = inject("motoEndpoint");
  const client = createSsmClient({ endpoint, maxAttempts: 1 });
  const root = `/t-${process.pid}-${Date.now()}-${++n}`;
  return {
    endpoint,
    client,
    root,
    api: sdkSsmApi(client),
    store: () => ssmSettingsStore({ api: sdkSsmApi(client), root }),
    async put(relative: string, value: string, type: "String" | "SecureString" = "String") {
      await client.send(
        new PutParameterCommand({ Name: `${root}/${relative}`, Value: value, Type: type, Overwrite: true }),
      );
    },
    /** Each setting where the product keeps it (its section), a secret as a SecureString. */
    async putSettings(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) {
        if (!isSettingName(name)) throw new Error(`not a setting: ${name}`);
        await this.put(
          `${homeSectionOf(name)}/${name}`,
          value,
          SECRET_SETTINGS.has(name) ? "SecureString" : "String",
        );
      }
    },
    /**
     * A function's environment in Lambda, reading these settings from this moto_server through its
     * own lite client, the product's own settings included as the stack turns them on.
     */
    functionEnv(extra: Record<string, string> = {}) {
      return {
        SETTINGS_PATH: root,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_SSM: endpoint,
        [TRANSPORT_SETTINGS_VARIABLE]: "true",
        ...extra,
      };
    },
  };
}
