// Secrets from a Cloudflare Secrets Store binding as well as Worker secrets (docs/contract.md §1), and
// the optional per-provider allowlist.
import { adminSecretsStore } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { readSecret, readSecretList, SECRET_CACHE_MS } from "../src/secrets";
import { callGateway, deliver, NOW_MS, recordingEnv, webhookRequest } from "./support/gateway";
import { novaEvent, nuvouchConnectionEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { SECRETS, signedHeaders } from "./support/sign";

const storeA = adminSecretsStore(env.STORE_SECRET_A);
let secretAId = "";
beforeAll(async () => {
  // The store holds the old and the new callback secret, as during a rotation.
  secretAId = await storeA.create(`rotated_out_secret, ${SECRETS.nuvouch}`);
  await adminSecretsStore(env.STORE_SECRET_B).create(TEST_SECRETS.ADMIN_API_TOKEN);
});

/** The same env with `name` read from the store binding instead of a Worker secret string. */
const fromStore = (overrides: Partial<Record<string, unknown>>) => ({ ...env, ...overrides }) as unknown as Env;

describe("a secret from a Secrets Store binding of the same name", () => {
  it("a Nuvouch callback verifies with its secret read from the store, and either rotated secret works", async () => {
    const { env: recording, sent } = recordingEnv();
    const storeEnv = { ...recording, NUVOUCH_CALLBACK_SECRET: env.STORE_SECRET_A } as unknown as Env;
    expect((await deliver("nuvouch", nuvouchConnectionEvent(), { env: storeEnv })).status).toBe(202);
    const old = await deliver("nuvouch", nuvouchConnectionEvent(), { env: storeEnv, secret: "rotated_out_secret" });
    expect(old.status).toBe(202);
    const forged = await deliver("nuvouch", nuvouchConnectionEvent(), { env: storeEnv, secret: "not_in_store" });
    expect(forged.status).toBe(401);
    expect(sent).toHaveLength(2);
  });

  it("the admin token may come from the store too", async () => {
    const storeEnv = fromStore({ ADMIN_API_TOKEN: env.STORE_SECRET_B });
    const request = (token: string) =>
      new Request("https://gateway.test/api/events", { headers: { authorization: `Bearer ${token}` } });
    expect((await callGateway(request(TEST_SECRETS.ADMIN_API_TOKEN), { env: storeEnv })).status).toBe(200);
    expect((await callGateway(request("wrong"), { env: storeEnv })).status).toBe(401);
  });

  it("is read once per isolate and reused for a short while: a rotation in the store shows within the cache time", async () => {
    const binding = env.STORE_SECRET_A;
    const storeEnv = fromStore({ NOVA_WEBHOOK_SECRET: binding });
    const get = vi.spyOn(binding, "get");
    const t0 = NOW_MS + 10 * SECRET_CACHE_MS;
    const first = await readSecretList(storeEnv, "NOVA_WEBHOOK_SECRET", t0);
    expect(first).toEqual(["rotated_out_secret", SECRETS.nuvouch]);
    await storeA.update("brand_new_secret", secretAId);
    expect(await readSecretList(storeEnv, "NOVA_WEBHOOK_SECRET", t0 + SECRET_CACHE_MS - 1)).toEqual(first);
    expect(get).toHaveBeenCalledTimes(1);
    expect(await readSecretList(storeEnv, "NOVA_WEBHOOK_SECRET", t0 + SECRET_CACHE_MS)).toEqual(["brand_new_secret"]);
    expect(get).toHaveBeenCalledTimes(2);
    await storeA.update(`rotated_out_secret, ${SECRETS.nuvouch}`, secretAId);
    vi.restoreAllMocks();
  });

  it("a Worker secret string is read as it is, and an unset or empty one is no secret", async () => {
    expect(await readSecret(fromStore({ ADMIN_API_TOKEN: "  tok  " }), "ADMIN_API_TOKEN", NOW_MS)).toBe("tok");
    expect(await readSecret(fromStore({ ADMIN_API_TOKEN: " " }), "ADMIN_API_TOKEN", NOW_MS)).toBeUndefined();
    expect(await readSecret(fromStore({ ADMIN_API_TOKEN: undefined }), "ADMIN_API_TOKEN", NOW_MS)).toBeUndefined();
    expect(await readSecretList(fromStore({ NOVA_WEBHOOK_SECRET: "a, ,b," }), "NOVA_WEBHOOK_SECRET", NOW_MS)).toEqual([
      "a",
      "b",
    ]);
  });

  it("a store without the secret refuses deliveries (401), never accepts them unsigned", async () => {
    const missing = { get: async () => Promise.reject(new Error('Secret "x" not found')) };
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await deliver("nova", novaEvent(), { env: fromStore({ NOVA_WEBHOOK_SECRET: missing }) });
    expect(response.status).toBe(401);
    vi.restoreAllMocks();
  });
});

describe("<PROVIDER>_ALLOWED_IPS", () => {
  const send = (ip: string | null, allowed: string) => {
    const body = JSON.stringify(novaEvent());
    const headers: Record<string, string> = { ...signedHeaders("nova", body, NOW_MS / 1000) };
    if (ip) headers["cf-connecting-ip"] = ip;
    return callGateway(webhookRequest("nova", body, headers), {
      env: fromStore({ NOVA_ALLOWED_IPS: allowed }),
    });
  };

  it.each([
    ["203.0.113.7", "203.0.113.0/24, 2001:db8::/32"],
    ["2001:db8:1::5", "203.0.113.0/24 2001:db8::/32"],
    ["::ffff:203.0.113.9", "203.0.113.0/24"],
    ["198.51.100.1", "198.51.100.1"],
  ])("accepts %s within %s", async (ip, allowed) => {
    expect((await send(ip, allowed)).status).toBe(202);
  });

  it.each([
    ["203.0.114.7", "203.0.113.0/24"],
    ["2001:db9::1", "2001:db8::/32"],
    [null, "203.0.113.0/24"],
    ["not an ip", "203.0.113.0/24"],
    ["203.0.113.7", "203.0.113.0/99"],
  ])("403 source_not_allowed for %s against %s, before verification", async (ip, allowed) => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send(ip, allowed);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code: "source_not_allowed" } });
    vi.restoreAllMocks();
  });

  it("is off by default: no list, no check", async () => {
    expect((await send(null, "")).status).toBe(202);
  });
});
