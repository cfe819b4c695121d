/**
 * The console's browser test needs a browser; `npm test` brings it itself rather than failing on a
 * fresh machine. Debian's chromium is what the test drives (playwright-core, no browser download):
 * when it is missing and this user may install packages (root, or sudo without a password), it is
 * installed with apt-get, saying so; otherwise the run says what to do and the browser test fails
 * with the same words. CHROMIUM_PATH names another browser; MM_EMAIL_INSTALL_BROWSER=0 forbids
 * the install.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

export interface EnsureBrowserDeps {
  env: Readonly<Record<string, string | undefined>>;
  exists: (path: string) => boolean;
  /** Runs a command, throwing when it fails. */
  run: (command: string, args: string[], env?: Record<string, string>) => void;
  /** The user id (0: root). */
  uid: number;
  log: (line: string) => void;
}

export type BrowserCheck = { ok: true; path: string; installed: boolean } | { ok: false; why: string };

const canRun = (deps: EnsureBrowserDeps, command: string, args: string[]) => {
  try {
    deps.run(command, args);
    return true;
  } catch {
    return false;
  }
};

export function ensureChromium(deps: EnsureBrowserDeps): BrowserCheck {
  const path = deps.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (deps.exists(path)) return { ok: true, path, installed: false };
  const how = `install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH to a Chromium`;
  if (deps.env.CHROMIUM_PATH)
    return { ok: false, why: `CHROMIUM_PATH is ${path}, where there is no browser: ${how}` };
  if (deps.env.MM_EMAIL_INSTALL_BROWSER === "0")
    return {
      ok: false,
      why: `no browser at ${path} (MM_EMAIL_INSTALL_BROWSER=0 forbids installing one): ${how}`,
    };
  if (!canRun(deps, "apt-get", ["--version"]))
    return { ok: false, why: `no browser at ${path}, and no apt-get to install one with: ${how}` };
  const sudo = deps.uid === 0 ? false : canRun(deps, "sudo", ["-n", "true"]) ? true : undefined;
  if (sudo === undefined)
    return { ok: false, why: `no browser at ${path}, and this user may not install packages: ${how}` };
  deps.log(
    `The console's browser test needs a browser and there is none at ${path}: installing Debian's chromium (apt-get install chromium), once; this takes a minute.`,
  );
  const aptEnv = { DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) =>
    sudo ? deps.run("sudo", ["-n", "apt-get", ...args], aptEnv) : deps.run("apt-get", args, aptEnv);
  try {
    apt(["update", "-qq"]);
    apt(["install", "-y", "-qq", "chromium"]);
  } catch (error) {
    return { ok: false, why: `installing chromium failed (${(error as Error).message}): ${how}` };
  }
  if (!deps.exists(path)) return { ok: false, why: `apt-get installed chromium, but not at ${path}: ${how}` };
  deps.log(`Installed chromium at ${path}.`);
  return { ok: true, path, installed: true };
}

/** The real machine: this process's environment and user, apt-get's output hidden unless it fails. */
export function ensureChromiumHere(log: (line: string) => void): BrowserCheck {
  return ensureChromium({
    env: process.env,
    exists: existsSync,
    run: (command, args, env) => {
      execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    },
    uid: process.getuid?.() ?? -1,
    log,
  });
}
