/**
 * One owner for each parameter: what the stack stores from its context is the stack's, shown as
 * such and never changed by mm-email (a deploy would put it back); everything else is the
 * operator's. The stack here is a CloudFormation stack in moto whose AWS::SSM::Parameter
 * resources are the ones `-c emailSettings` makes.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { settingsShow } from "../../cli/commands/settings.ts";
import { settingsImport } from "../../cli/commands/settings-file.ts";
import { settingsSet, settingsUnset } from "../../cli/commands/settings-write.ts";
import { runCommand } from "../../cli/context.ts";
import { contextKeyOf } from "../../cli/stack-owned.ts";
import { buildStack } from "../infra/synth.ts";
import { deployedStack } from "./fixture.ts";

async function ownedStack() {
  const stack = await deployedStack({ stackSettings: { SMTPServer: "smtp.example.com" } });
  await stack.ssm.putSettings({ SMTPPort: "587" }); // the operator's, set outside the stack
  const storedValue = async (setting: string) =>
    (
      await stack.ssm.client.send(
        new GetParameterCommand({ Name: `${stack.ssm.root}/EmailSettings/${setting}` }),
      )
    ).Parameter?.Value;
  return { ...stack, storedValue };
}

const REFUSAL =
  /\/EmailSettings\/SMTPServer is stack cli-[\w-]+'s: its context emailSettings\.SMTPServer sets it, and a deploy that changes or removes that key would overwrite or delete what mm-email wrote\.\nChange emailSettings\.SMTPServer in the context and run `npx cdk deploy`, or hand it to mm-email \(docs\/deploy\.md#who-owns-a-setting\)\. Nothing was written\./;

describe("who owns a parameter", () => {
  it("settings show says which parameters the stack owns", async () => {
    const stack = await ownedStack();
    const json = stack.cli();
    await settingsShow(json.ctx, { json: true });
    const shown = JSON.parse(json.out()).settings;
    expect(shown.SMTPServer).toMatchObject({
      value: "smtp.example.com",
      stackOwned: "emailSettings.SMTPServer",
      sourceText: `SSM parameter ${stack.ssm.root}/EmailSettings/SMTPServer, the stack's (context emailSettings.SMTPServer)`,
    });
    expect(shown.SMTPPort.stackOwned).toBeUndefined();
    expect(shown.SMTPPort.sourceText).toBe(`SSM parameter ${stack.ssm.root}/EmailSettings/SMTPPort`);
    const human = stack.cli();
    await settingsShow(human.ctx);
    expect(human.out()).toMatch(/^SMTPServer\s.*the stack's \(context emailSettings\.SMTPServer\)$/m);
  });

  it("warns when the stack's parameter was changed outside it: a deploy of that key would undo it", async () => {
    const stack = await ownedStack();
    // As an earlier mm-email (or aws ssm put-parameter) did, behind the stack's back.
    await stack.ssm.client.send(
      new PutParameterCommand({
        Name: `${stack.ssm.root}/EmailSettings/SMTPServer`,
        Value: "smtp.changed.example",
        Type: "String",
        Overwrite: true,
      }),
    );
    const { ctx, err } = stack.cli();
    await settingsShow(ctx);
    expect(err()).toContain(
      `warning: ${stack.ssm.root}/EmailSettings/SMTPServer holds "smtp.changed.example", but stack ${stack.name}'s context emailSettings.SMTPServer says "smtp.example.com": a deploy that changes or removes that key overwrites or deletes the stored value`,
    );
    const agreeing = await ownedStack();
    const quiet = agreeing.cli();
    await settingsShow(quiet.ctx);
    expect(quiet.err()).toBe("");
  });

  it("set and unset refuse the stack's parameter, name the context key, and write nothing", async () => {
    const stack = await ownedStack();
    const set = stack.cli("", { yes: true });
    expect(await runCommand(set.ctx, () => settingsSet(set.ctx, "SMTPServer", "smtp.other.example"))).toBe(2);
    expect(set.err()).toMatch(REFUSAL);
    const unset = stack.cli("", { yes: true });
    expect(await runCommand(unset.ctx, () => settingsUnset(unset.ctx, "SMTPServer"))).toBe(2);
    expect(unset.err()).toMatch(REFUSAL);
    expect(await stack.storedValue("SMTPServer")).toBe("smtp.example.com");
    // The operator's own parameter is the operator's to change.
    const port = stack.cli();
    expect(await settingsSet(port.ctx, "SMTPPort", "465")).toBe(0);
    expect(await stack.storedValue("SMTPPort")).toBe("465");
  });

  it("import refuses a file that changes the stack's parameter, and writes none of it", async () => {
    const stack = await ownedStack();
    const dir = await mkdtemp(join(tmpdir(), "mm-email-owned-"));
    const changing = join(dir, "changing.json");
    await writeFile(
      changing,
      JSON.stringify({ EmailSettings: { SMTPServer: "smtp.other.example", SMTPPort: "2525" } }),
    );
    for (const dryRun of [true, false]) {
      const imported = stack.cli("", { yes: true });
      expect(await runCommand(imported.ctx, () => settingsImport(imported.ctx, changing, { dryRun }))).toBe(
        2,
      );
      expect(imported.err()).toMatch(REFUSAL);
    }
    expect(await stack.storedValue("SMTPServer")).toBe("smtp.example.com");
    expect(await stack.storedValue("SMTPPort")).toBe("587");

    // A file that agrees with the stack on its parameter changes only the operator's.
    const agreeing = join(dir, "agreeing.json");
    await writeFile(
      agreeing,
      JSON.stringify({ EmailSettings: { SMTPServer: "smtp.example.com", SMTPPort: "2525" } }),
    );
    const ok = stack.cli("", { yes: true });
    expect(await settingsImport(ok.ctx, agreeing)).toBe(0);
    expect(await stack.storedValue("SMTPPort")).toBe("2525");
  });

  it("the stack names each parameter it stores after its context key, as mm-email reads it back", () => {
    const context = {
      settingsPath: "/prod/chat",
      emailSettings: { SMTPServer: "smtp.example.com", SMTPPort: 587 },
      emailTransportSettings: { SMTPAuthMethod: "password" },
      securityAlertRecipients: "a@example.com",
    };
    const t = Template.fromStack(buildStack({ context }).stack);
    const keys = Object.values(t.findResources("AWS::SSM::Parameter")).map((p) =>
      contextKeyOf("/prod/chat", p.Properties.Name),
    );
    expect(keys.sort()).toEqual([
      "emailSettings.SMTPPort",
      "emailSettings.SMTPServer",
      "emailTransportSettings.SMTPAuthMethod",
      "securityAlertRecipients",
    ]);
    // Each names a key this context really has: mm-email's advice can be followed as written.
    for (const key of keys) {
      const [top = "", inner] = key.split(".");
      const value = (context as Record<string, unknown>)[top];
      expect(inner === undefined ? value : (value as Record<string, unknown>)[inner]).toBeDefined();
    }
  });
});
