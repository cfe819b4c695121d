/**
 * How the obvious implementation reads its settings (issue 12.18's baseline): the AWS SDK's
 * SSMClient and GetParametersByPath over the settings' folder, recursive and decrypted, each page
 * after the one before it (at most 10 parameters a page), after the handler is first called.
 * The product instead reads the fifteen names with two GetParameters calls at once, started at
 * init; the baseline must not share that.
 */
import { GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { StoredParameter } from "../../../lib/aws-ssm/reads.ts";
import { type SettingsStore, settingsRootPath, ssmLayer } from "../../../lib/settings/index.ts";

export function sdkSettingsStore(): SettingsStore {
  const root = settingsRootPath(process.env);
  const client = new SSMClient({});
  return {
    description: `SSM ${root} (AWS SDK, GetParametersByPath)`,
    async read() {
      const parameters: StoredParameter[] = [];
      let NextToken: string | undefined;
      for (let page = 0; page < 100; page++) {
        const out = await client.send(
          new GetParametersByPathCommand({ Path: root, Recursive: true, WithDecryption: true, NextToken }),
        );
        for (const p of out.Parameters ?? []) {
          if (p.Name && p.Value !== undefined) {
            parameters.push({ name: p.Name, value: p.Value, type: p.Type as StoredParameter["type"] });
          }
        }
        NextToken = out.NextToken;
        if (!NextToken) break;
      }
      return ssmLayer(parameters, root);
    },
  };
}
