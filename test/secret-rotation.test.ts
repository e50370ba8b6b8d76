// The secrets the gateway sends with or checks itself (docs/contract.md §1, §6), from a Secrets
// Store binding as well as a Worker secret, and as rotation lists: the Nuvouch API key, the
// forwarding secret (which signs alerts too) and the admin token.
import { adminSecretsStore } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { reconcileApprovals } from "../src/maintenance/reconcile";
import { consume, messageFor } from "./support/consumer";
import { callGateway, NOW_MS } from "./support/gateway";
import { novaEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

const FAKE = `${env.NUVOUCH_API_BASE_URL}/ns/secret-rotation`;
const OLD_KEY = TEST_SECRETS.FORWARD_SIGNING_SECRET;
const NEW_KEY = `whsec_${btoa("the_new_forward_signing_key")}`;
const OTHER_KEY = `whsec_${btoa("a_key_the_gateway_never_had")}`;

beforeAll(async () => {
  await adminSecretsStore(env.STORE_SECRET_C).create(TEST_SECRETS.NUVOUCH_INTEGRATOR_API_KEY);
  // A forwarding secret in the middle of a rotation: the new key first, the old one still there.
  await adminSecretsStore(env.STORE_SECRET_D).create(`${NEW_KEY}, ${OLD_KEY}`);
});
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const withVars = (vars: Record<string, unknown>) => ({ ...env, NUVOUCH_API_BASE_URL: FAKE, ...vars }) as unknown as Env;

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}
async function receivedAt(path: string): Promise<Received[]> {
  const all = (await (await fetch(`${env.FORWARD_SINK_URL}/_received`)).json()) as Received[];
  return all.filter((r) => r.path === path);
}

/** Each key verifies the request with the standardwebhooks library, or throws. */
function verifiesWith(request: Received | undefined, key: string): boolean {
  try {
    new Webhook(key).verify(request?.body ?? "", request?.headers ?? {});
    return true;
  } catch {
    return false;
  }
}

describe("NUVOUCH_INTEGRATOR_API_KEY from a Secrets Store binding", () => {
  it("POST /api/nuvouch/connections calls Nuvouch with the key read from the store", async () => {
    const response = await callGateway(
      new Request("https://gateway.test/api/nuvouch/connections", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ subjectId: "cus_store_key", contextKey: "merchant:acct_live_001" }),
      }),
      { env: withVars({ NUVOUCH_INTEGRATOR_API_KEY: env.STORE_SECRET_C }) },
    );
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ subjectId: "cus_store_key", status: "pending" });
  });

  it("reconciliation looks approvals up with the key read from the store", async () => {
    await env.DB.prepare(
      `INSERT INTO nuvouch_approvals (external_request_id, approval_request_id, subject_id, context_key, status,
         precedence, created_at, updated_at)
       VALUES ('payment_unknown_to_nuvouch', 'apr_x', 'cus_x', 'ctx', 'pending', '1', ?1, ?1)`,
    )
      .bind(new Date(NOW_MS).toISOString())
      .run();
    const summary = await reconcileApprovals(withVars({ NUVOUCH_INTEGRATOR_API_KEY: env.STORE_SECRET_C }), {
      nowMs: NOW_MS + 16 * 60_000,
    });
    // Nuvouch accepted the key and answered 404 for an approval it does not know.
    expect(summary).toMatchObject({ stoppedBy: null, looked: 1, unknown: 1, failed: 0 });
  });
});

describe("FORWARD_SIGNING_SECRET with several keys while rotating", () => {
  const forward = async (path: string, secret: unknown) => {
    const message = await messageFor("nova", novaEvent());
    const testEnv = { ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}${path}`, FORWARD_SIGNING_SECRET: secret };
    const result = await consume([message], { env: testEnv as unknown as Env });
    expect(result.acked).toHaveLength(1);
    const [request, ...more] = await receivedAt(path);
    expect(more).toEqual([]);
    return request;
  };

  it.each([
    ["a Worker secret", "/ok?forward=list", `${NEW_KEY},${OLD_KEY}`],
    ["a Secrets Store binding", "/ok?forward=store", env.STORE_SECRET_D],
  ])("a forward signed from %s verifies with either key, and only with those", async (_source, path, secret) => {
    const request = await forward(path, secret);
    expect(request?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(verifiesWith(request, NEW_KEY)).toBe(true);
    expect(verifiesWith(request, OLD_KEY)).toBe(true);
    expect(verifiesWith(request, OTHER_KEY)).toBe(false);
  });

  it.each([
    ["a Worker secret", "/ok?alerts=list", `${NEW_KEY},${OLD_KEY}`],
    ["a Secrets Store binding", "/ok?alerts=store", env.STORE_SECRET_D],
  ])("an alert signed from %s verifies with either key", async (_source, path, secret) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.DB.batch([env.DB.prepare("DELETE FROM alerts_outbox"), env.DB.prepare("DELETE FROM alert_sender")]);
    const testEnv = { ...env, ALERT_URL: `${env.FORWARD_SINK_URL}${path}`, FORWARD_SIGNING_SECRET: secret };
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    // A dead letter: the consumer's own flush sends the alert.
    await consume([message], { queue: "webhook-events-dlq", env: testEnv as unknown as Env, nowMs: NOW_MS });
    const [request, ...more] = await receivedAt(path);
    expect(more).toEqual([]);
    expect(verifiesWith(request, NEW_KEY)).toBe(true);
    expect(verifiesWith(request, OLD_KEY)).toBe(true);
    expect(verifiesWith(request, OTHER_KEY)).toBe(false);
  });
});

describe("ADMIN_API_TOKEN while rotating", () => {
  const events = (token: string, configured: string) =>
    callGateway(new Request("https://gateway.test/api/events", { headers: { authorization: `Bearer ${token}` } }), {
      env: { ...env, ADMIN_API_TOKEN: configured } as Env,
    });

  it("accepts each token of a comma-separated list, and no other", async () => {
    const configured = `new_admin_token, ${TEST_SECRETS.ADMIN_API_TOKEN}`;
    expect((await events("new_admin_token", configured)).status).toBe(200);
    expect((await events(TEST_SECRETS.ADMIN_API_TOKEN, configured)).status).toBe(200);
    expect((await events("other_token", configured)).status).toBe(401);
    expect((await events(configured, configured)).status).toBe(401);
  });
});
