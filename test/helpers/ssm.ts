/** Seeding parameters in the run's moto_server, each test under a root of its own. */
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { inject } from "vitest";
import { createSsmClient, sdkSsmApi } from "../../lib/aws-ssm/sdk-client.ts";
import { ssmSettingsStore } from "../../lib/settings/index.ts";

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
    async putSettings(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) {
        await this.put(`EmailSettings/${name}`, value, name === "SMTPPassword" ? "SecureString" : "String");
      }
    },
  };
}
