/**
 * The settings layer against a real SSM-compatible server (moto_server), through a counting
 * proxy so the tests can see how many requests reached it. No mocked SDK.
 */
import { PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startColdStartIo } from "../../../functions/cold-start.ts";
import { liteSsmApi, type SsmApi } from "../../../lib/aws-ssm/index.ts";
import { createSsmClient, sdkSsmApi } from "../../../lib/aws-ssm/sdk-client.ts";
import {
  createCachedLoader,
  InvalidSettingsError,
  loadEmailSettings,
  SettingsLoadError,
  ssmSettingsStore,
} from "../../../lib/settings/index.ts";
import { prefetchStoredParameters } from "../../../lib/settings/prefetch.ts";
import { type CountingProxy, startCountingProxy } from "../../helpers/counting-proxy.ts";

const BY_PATH = "AmazonSSM.GetParametersByPath";
const BY_NAMES = "AmazonSSM.GetParameters";
const PASSWORD = "pw-Ω-7f3a9c1e-never-log-me";

let proxy: CountingProxy;
let admin: SSMClient;
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
};
/** Both ways the product talks to SSM: the SDK client, and the lite signed client Lambda uses. */
const API_KINDS = ["sdk", "lite"] as const;
let apis: Record<(typeof API_KINDS)[number], SsmApi>;
let rootCounter = 0;

/** A root path of its own for each test, so tests never see each other's parameters. */
const freshRoot = () => `/it-${process.pid}-${Date.now()}-${++rootCounter}`;

async function put(name: string, value: string, type: "String" | "SecureString" = "String") {
  await admin.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
}

beforeAll(async () => {
  const moto = inject("motoEndpoint");
  proxy = await startCountingProxy(moto);
  admin = createSsmClient({ endpoint: moto });
  apis = {
    sdk: sdkSsmApi(createSsmClient({ endpoint: proxy.endpoint, maxAttempts: 1 })),
    lite: liteSsmApi({ ...CREDENTIALS, AWS_ENDPOINT_URL_SSM: proxy.endpoint }, { maxAttempts: 1 }) as SsmApi,
  };
});

afterAll(async () => {
  await proxy.close();
});

describe.each(API_KINDS)("loadEmailSettings from SSM (%s client)", (kind) => {
  const client = {
    get api() {
      return apis[kind];
    },
  };
  it("reads String and SecureString parameters, decrypting the password", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "smtp.example.com");
    await put(`${root}/EmailSettings/SMTPPort`, "587");
    await put(`${root}/EmailSettings/ConnectionSecurity`, "STARTTLS");
    await put(`${root}/EmailSettings/SMTPUsername`, "mailer");
    await put(`${root}/EmailSettings/SMTPPassword`, PASSWORD, "SecureString");
    await put(`${root}/ServiceSettings/EnableSecurityFixAlert`, "false");

    const { values, sources, warnings } = await loadEmailSettings({
      env: {},
      store: ssmSettingsStore({ api: client.api, root }),
    });

    expect(values).toMatchObject({
      SMTPServer: "smtp.example.com",
      SMTPPort: 587,
      ConnectionSecurity: "STARTTLS",
      EnableSMTPAuth: true,
      SMTPUsername: "mailer",
      SMTPPassword: PASSWORD,
      EnableSecurityFixAlert: false,
    });
    expect(sources.SMTPPassword).toEqual({ layer: "ssm", name: `${root}/EmailSettings/SMTPPassword` });
    expect(sources.EnableSecurityFixAlert).toEqual({
      layer: "ssm",
      name: `${root}/ServiceSettings/EnableSecurityFixAlert`,
    });
    expect(sources.FeedbackEmail).toEqual({ layer: "default" });
    expect(warnings).toEqual([]);
  });

  it("reads the settings by name in one round, never the rest of EmailSettings or of the root", async () => {
    const root = freshRoot();
    // 25 parameters under EmailSettings (three settings and noise): only the settings are read.
    await put(`${root}/EmailSettings/FeedbackName`, "Ops Team");
    await put(`${root}/EmailSettings/SMTPServerTimeout`, "7");
    for (let i = 0; i < 22; i++) await put(`${root}/EmailSettings/Noise${String(i).padStart(2, "0")}`, "x");
    await put(`${root}/EmailSettings/ReplyToAddress`, "help@example.com");
    // Elsewhere under the root: read by name (Recipients) or not at all (sent markers).
    await put(`${root}/SecurityAlerts/Recipients`, "a@example.com,b@example.com");
    for (let i = 0; i < 12; i++) await put(`${root}/SecurityAlerts/Sent/bulletin-${i}`, "sent");

    proxy.reset();
    const { values, others } = await loadEmailSettings({
      env: {},
      store: ssmSettingsStore({ api: client.api, root }),
    });
    expect(values).toMatchObject({
      FeedbackName: "Ops Team",
      SMTPServerTimeout: 7,
      ReplyToAddress: "help@example.com",
    });
    expect(others).toEqual({ "SecurityAlerts/Recipients": "a@example.com,b@example.com" });
    // Fifteen names in two calls of GetParameters, at once: the noise is never read.
    expect(proxy.count(BY_PATH)).toBe(0);
    expect(proxy.count(BY_NAMES)).toBe(2);
    expect(proxy.count()).toBe(2);
  });

  it("lets the environment override SSM, and says so in the sources", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "from-ssm.example.com");
    await put(`${root}/EmailSettings/SMTPPort`, "25");
    const { values, sources } = await loadEmailSettings({
      env: { MM_EMAILSETTINGS_SMTPPORT: "2525", SETTINGS_PATH: "/ignored-when-root-given" },
      store: ssmSettingsStore({ api: client.api, root }),
    });
    expect(values.SMTPServer).toBe("from-ssm.example.com");
    expect(values.SMTPPort).toBe(2525);
    expect(sources.SMTPPort).toEqual({ layer: "environment", name: "MM_EMAILSETTINGS_SMTPPORT" });
  });

  it("takes the root from SETTINGS_PATH", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "rooted.example.com");
    const { values } = await loadEmailSettings({
      env: { SETTINGS_PATH: `${root}/` },
      store: ssmSettingsStore({ api: client.api, env: { SETTINGS_PATH: `${root}/` } }),
    });
    expect(values.SMTPServer).toBe("rooted.example.com");
  });

  it("rejects a bad value in SSM naming the parameter, without echoing the password", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPPort`, "twenty-five");
    await put(`${root}/EmailSettings/SMTPPassword`, `${PASSWORD}\n`, "SecureString");
    const error = await loadEmailSettings({
      env: {},
      store: ssmSettingsStore({ api: client.api, root }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidSettingsError);
    expect(error.message).toContain(
      `SMTPPort (SSM parameter ${root}/EmailSettings/SMTPPort = "twenty-five")`,
    );
    expect(error.message).toContain(
      `SMTPPassword (SSM parameter ${root}/EmailSettings/SMTPPassword) must not contain`,
    );
    expect(JSON.stringify({ m: error.message, i: error.issues })).not.toContain(PASSWORD);
  });

  it("warns when the password is stored as a plain String", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPPassword`, PASSWORD, "String");
    const { warnings } = await loadEmailSettings({
      env: {},
      store: ssmSettingsStore({ api: client.api, root }),
    });
    expect(warnings).toEqual([
      `${root}/EmailSettings/SMTPPassword is a String parameter: store the password as a SecureString`,
    ]);
  });

  it("finds the endpoint through the SDK's standard AWS_ENDPOINT_URL_SSM variable", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "via-env-endpoint.example.com");
    const saved = process.env.AWS_ENDPOINT_URL_SSM;
    process.env.AWS_ENDPOINT_URL_SSM = proxy.endpoint;
    try {
      proxy.reset();
      const { values } = await loadEmailSettings({ env: { SETTINGS_PATH: root } });
      expect(values.SMTPServer).toBe("via-env-endpoint.example.com");
      expect(proxy.count(BY_NAMES)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
      else process.env.AWS_ENDPOINT_URL_SSM = saved;
    }
  });
});

describe("prefetchStoredParameters", () => {
  it("starts the read at init, and the store's first read uses it instead of asking again", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "prefetched.example.com");
    const env = { ...CREDENTIALS, AWS_ENDPOINT_URL_SSM: proxy.endpoint, SETTINGS_PATH: root };
    proxy.reset();
    prefetchStoredParameters(env);
    await new Promise((r) => setTimeout(r, 200));
    const requestsByPrefetch = proxy.count();
    expect(requestsByPrefetch).toBe(2);
    const { values } = await loadEmailSettings({ env, store: ssmSettingsStore({ env }) });
    expect(values.SMTPServer).toBe("prefetched.example.com");
    expect(proxy.count()).toBe(requestsByPrefetch);
  });

  it("does nothing with SETTINGS_PREFETCH=off (the cold start's switch) or without credentials in the environment", async () => {
    proxy.reset();
    startColdStartIo({
      ...CREDENTIALS,
      AWS_ENDPOINT_URL_SSM: proxy.endpoint,
      SETTINGS_PREFETCH: "off",
    });
    prefetchStoredParameters({ AWS_ENDPOINT_URL_SSM: proxy.endpoint, AWS_REGION: "us-east-1" });
    await new Promise((r) => setTimeout(r, 100));
    expect(proxy.count()).toBe(0);
  });
});

describe.each(API_KINDS)("SSM unreachable (%s client)", (kind) => {
  const client = {
    get api() {
      return apis[kind];
    },
  };
  it("fails the first load with a SettingsLoadError that names the path", async () => {
    const root = freshRoot();
    const dead =
      kind === "sdk"
        ? sdkSsmApi(createSsmClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 }))
        : (liteSsmApi(
            { ...CREDENTIALS, AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:9" },
            { maxAttempts: 1 },
          ) as SsmApi);
    const error = await loadEmailSettings({ env: {}, store: ssmSettingsStore({ api: dead, root }) }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(SettingsLoadError);
    expect(error.message).toMatch(
      new RegExp(`^Could not read SSM parameters under ${root}(/EmailSettings)?: `),
    );
  });

  it("keeps serving the last good settings when a refresh fails, then picks up changes", async () => {
    const root = freshRoot();
    await put(`${root}/EmailSettings/SMTPServer`, "first.example.com");
    let t = 0;
    const warnings: string[] = [];
    const store = ssmSettingsStore({ api: client.api, root });
    const cache = createCachedLoader({
      load: () => loadEmailSettings({ env: {}, store }),
      ttlSeconds: 60,
      retryAfterFailureSeconds: 10,
      now: () => t,
      logger: { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect((await cache.get()).values.SMTPServer).toBe("first.example.com");

    proxy.setDown(true);
    try {
      t += 61_000;
      expect((await cache.get()).values.SMTPServer).toBe("first.example.com");
      expect(warnings).toHaveLength(1);
    } finally {
      proxy.setDown(false);
    }

    await put(`${root}/EmailSettings/SMTPServer`, "second.example.com");
    t += 10_000;
    expect((await cache.get()).values.SMTPServer).toBe("second.example.com");
  });
});

describe.each(API_KINDS)("cache against SSM (%s client)", (kind) => {
  const client = {
    get api() {
      return apis[kind];
    },
  };
  it("makes one load per cache period however many invocations, and sees changes after it", async () => {
    const root = freshRoot();
    for (let i = 0; i < 14; i++) await put(`${root}/EmailSettings/Noise${i}`, "x"); // two pages per load
    await put(`${root}/EmailSettings/SMTPServer`, "v1.example.com");
    let t = 0;
    const store = ssmSettingsStore({ api: client.api, root });
    const cache = createCachedLoader({
      load: () => loadEmailSettings({ env: {}, store }),
      ttlSeconds: 30,
      now: () => t,
    });

    proxy.reset();
    // 100 "invocations", half of them concurrent with a cold load.
    await Promise.all(Array.from({ length: 50 }, () => cache.get()));
    for (let i = 0; i < 50; i++) await cache.get();
    expect(proxy.count(BY_NAMES)).toBe(2); // one load: two calls at once

    await put(`${root}/EmailSettings/SMTPServer`, "v2.example.com");
    t += 29_000;
    expect((await cache.get()).values.SMTPServer).toBe("v1.example.com");
    t += 1_000;
    expect((await cache.get()).values.SMTPServer).toBe("v2.example.com");
    expect(proxy.count(BY_NAMES)).toBe(4);
  });
});
