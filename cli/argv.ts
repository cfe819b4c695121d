/**
 * The global options wherever the operator puts them: `mm-email --local settings show` and
 * `mm-email settings show --local` mean the same. Commander reads a program's options only before
 * the command, and `--local [url]` would take the next word (the command) as its URL; so the
 * global options are moved to the front before parsing, `--local` taking a URL only when the next
 * word is one (a bare `--local` is written out as the default local address, so nothing can be
 * mistaken for its value), and `--json` (each command's own) moved to the end.
 */
import { DEFAULT_LOCAL_URL } from "./local.ts";

/** Global options that take a value. */
const WITH_VALUE = new Set(["--stack", "--profile", "--region"]);
/** Global flags. */
const FLAGS = new Set(["--yes", "-y"]);
const URL_LIKE = /^https?:\/\//i;

export function normalizeArgv(argv: readonly string[]): string[] {
  const globals: string[] = [];
  const rest: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const [name] = token.split("=", 1) as [string];
    if (token === "--json") json = true;
    else if (FLAGS.has(token)) globals.push(token);
    else if (name === "--local") {
      const next = argv[i + 1];
      if (token !== "--local") globals.push(token);
      else if (next !== undefined && URL_LIKE.test(next)) {
        globals.push(`--local=${next}`);
        i++;
      } else globals.push(`--local=${DEFAULT_LOCAL_URL}`);
    } else if (WITH_VALUE.has(name)) {
      if (token.includes("=")) globals.push(token);
      else {
        globals.push(token, ...(argv[i + 1] === undefined ? [] : [argv[i + 1] as string]));
        i++;
      }
    } else rest.push(token);
  }
  return [...globals, ...rest, ...(json ? ["--json"] : [])];
}
