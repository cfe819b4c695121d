/**
 * The one way every function is wired (functions/create-function.ts), tested where it adds a
 * defence of its own: the container's logger scrubs each access token the container fetches,
 * whatever path the token takes to a line. lib/ already scrubs a token from what a server or a
 * library says about the session that sent it; this is the layer under that one, for a line lib
 * never saw (a server quoting an older token, a future debug line). Tokens come from a real OAuth2
 * server that signs real JWTs (local/token-endpoint.ts).
 */
import { describe, expect, it } from "vitest";
import { createFunction, SCRUBBED_TOKENS } from "../../functions/create-function.ts";
import { environmentVariableFor, type SettingName } from "../../lib/settings/index.ts";
import { captureLogs, lambdaContext } from "../helpers/lambda.ts";
import { signInSettings, startProvider } from "../helpers/oauth2.ts";
import { perTest } from "../helpers/per-test.ts";

const { defer } = perTest();

/**
 * A function that fetches `count` fresh tokens and writes each on a line of its own, as is: as it
 * fetches it, or (`atTheEnd`) all of them once the last is fetched.
 */
async function leakyFunction(count: number, { atTheEnd = false } = {}) {
  const provider = await startProvider();
  defer(() => provider.endpoint.close());
  const settings = signInSettings(provider.endpoint, "oauth2-generic");
  const env = Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [
      environmentVariableFor(name as SettingName),
      String(value),
    ]),
  );
  const logs = captureLogs();
  const fetched: string[] = [];
  const handler = createFunction("connection-test", { env, store: null, write: logs.write }, ({ smtp }) => ({
    async handler(_event: unknown, context) {
      const quote = (token: string) =>
        context.logger.info("a line lib never saw", { quoted: `token was ${token}` });
      for (let i = 0; i < count; i++) {
        const token = await smtp.tokens?.get(context.settings.values, { timeoutMs: 5_000, refresh: true });
        if (!token) throw new Error("the function has no token cache");
        fetched.push(token.value);
        if (!atTheEnd) quote(token.value);
      }
      if (atTheEnd) for (const token of fetched) quote(token);
      return "done";
    },
  }));
  await handler({}, lambdaContext("connection-test"));
  const quoted = logs
    .entries()
    .filter((e) => e.message === "a line lib never saw")
    .map((e) => e.quoted);
  return { fetched, logs, quoted };
}

describe("a function's logger and the container's access tokens", () => {
  it("scrubs every token the container fetched from every line it writes", async () => {
    const { fetched, logs, quoted } = await leakyFunction(3);
    expect(new Set(fetched).size).toBe(3);
    expect(quoted).toEqual(["token was [redacted]", "token was [redacted]", "token was [redacted]"]);
    for (const token of fetched) expect(logs.text()).not.toContain(token);
  });

  it(`keeps scrubbing the ${SCRUBBED_TOKENS} newest, so a server may still quote one a session signed in with earlier`, async () => {
    const { fetched, quoted } = await leakyFunction(SCRUBBED_TOKENS + 1, { atTheEnd: true });
    expect(new Set(fetched).size).toBe(SCRUBBED_TOKENS + 1);
    expect(quoted.slice(1)).toEqual(Array(SCRUBBED_TOKENS).fill("token was [redacted]"));
    // The oldest is out of use (the cache keeps one a client) and has left the list: it does not
    // grow with every connection test's fresh token.
    expect(quoted[0]).toBe(`token was ${fetched[0]}`);
  });
});
