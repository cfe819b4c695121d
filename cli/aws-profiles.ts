/**
 * The named profiles of the shared AWS files, read as the AWS CLI reads them: `[profile NAME]`
 * (and `[default]`) in the config file, `[NAME]` in the credentials file, at AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE or ~/.aws/. The SDK, given a profile that exists in neither, fails
 * later with a message about a missing region or credentials; this lets --profile say what is wrong.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

type Env = Readonly<Record<string, string | undefined>>;

const expandHome = (path: string) => (path.startsWith("~/") ? join(homedir(), path.slice(2)) : path);

export function sharedFilePaths(env: Env): { config: string; credentials: string } {
  return {
    config: expandHome(env.AWS_CONFIG_FILE ?? join(homedir(), ".aws", "config")),
    credentials: expandHome(env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), ".aws", "credentials")),
  };
}

async function sections(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return []; // no such file: no profiles there
  }
  return [...text.matchAll(/^\s*\[([^\]\r\n]+)\]/gm)].map((m) => (m[1] ?? "").trim());
}

/** Every profile name the two files define. */
export async function profileNames(env: Env): Promise<Set<string>> {
  const paths = sharedFilePaths(env);
  const names = new Set<string>();
  for (const section of await sections(paths.config)) {
    const named = /^profile\s+(.+)$/.exec(section);
    if (named?.[1]) names.add(named[1].trim());
    else if (section === "default") names.add("default");
  }
  for (const section of await sections(paths.credentials)) names.add(section);
  return names;
}
