/**
 * `npm test` brings the console test's browser itself (test/helpers/browser.ts): the decisions,
 * with the commands it would run recorded instead of run (installing a package is not a test's
 * to do; the real run does it once, in the browser project's set-up, test/setup/browser.ts).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CHROMIUM, type EnsureBrowserDeps, ensureChromium } from "./browser.ts";

function machine(over: Partial<EnsureBrowserDeps> & { have?: string[]; installs?: boolean; sudo?: boolean }) {
  const present = new Set(over.have ?? []);
  const ran: string[] = [];
  const logged: string[] = [];
  const deps: EnsureBrowserDeps = {
    env: over.env ?? {},
    uid: over.uid ?? 0,
    exists: (p) => present.has(p),
    run: (command, args, env) => {
      ran.push(
        [env?.DEBIAN_FRONTEND ? `DEBIAN_FRONTEND=${env.DEBIAN_FRONTEND}` : "", command, ...args]
          .join(" ")
          .trim(),
      );
      if (command === "sudo" && args[1] === "true" && !over.sudo) throw new Error("a password is required");
      if (args.includes("install") && over.installs !== false) present.add(DEFAULT_CHROMIUM);
    },
    log: (line) => logged.push(line),
  };
  return { deps, ran, logged };
}

describe("the console test's browser", () => {
  it("is used as it is when present: nothing run, nothing said", () => {
    const m = machine({ have: [DEFAULT_CHROMIUM] });
    expect(ensureChromium(m.deps)).toEqual({ ok: true, path: DEFAULT_CHROMIUM, installed: false });
    expect(m.ran).toEqual([]);
    expect(m.logged).toEqual([]);
  });

  it("missing, as root: Debian's chromium is installed, saying so", () => {
    const m = machine({ uid: 0 });
    expect(ensureChromium(m.deps)).toEqual({ ok: true, path: DEFAULT_CHROMIUM, installed: true });
    expect(m.ran).toEqual([
      "apt-get --version",
      "DEBIAN_FRONTEND=noninteractive apt-get update -qq",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
    ]);
    expect(m.logged[0]).toMatch(
      /^The console's browser test needs a browser .* installing Debian's chromium/,
    );
    expect(m.logged[1]).toBe(`Installed chromium at ${DEFAULT_CHROMIUM}.`);
  });

  it("missing, as a user with sudo without a password: through sudo -n", () => {
    const m = machine({ uid: 1000, sudo: true });
    expect(ensureChromium(m.deps)).toMatchObject({ ok: true, installed: true });
    expect(m.ran.slice(-2)).toEqual([
      "DEBIAN_FRONTEND=noninteractive sudo -n apt-get update -qq",
      "DEBIAN_FRONTEND=noninteractive sudo -n apt-get install -y -qq chromium",
    ]);
  });

  it.each([
    [{ uid: 1000 }, /this user may not install packages/],
    [{ env: { MM_EMAIL_INSTALL_BROWSER: "0" } }, /MM_EMAIL_INSTALL_BROWSER=0 forbids installing one/],
    [{ env: { CHROMIUM_PATH: "/opt/chrome" } }, /CHROMIUM_PATH is \/opt\/chrome, where there is no browser/],
    [{ installs: false }, /apt-get installed chromium, but not at \/usr\/bin\/chromium/],
  ] as const)("is not installed when it may not be (%j), and the browser test says why", (over, why) => {
    const m = machine(over);
    const check = ensureChromium(m.deps);
    expect(check.ok).toBe(false);
    expect(check.ok ? "" : check.why).toMatch(why);
    expect(check.ok ? "" : check.why).toContain("apt-get install chromium");
    if (!("installs" in over)) expect(m.ran.filter((r) => r.includes("install -y"))).toEqual([]);
  });
});
