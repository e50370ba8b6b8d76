// The secrets the gateway sends with or checks itself (docs/contract.md §1, §6), from a Secrets
// Store binding as well as a Worker secret, and as rotation lists: the Nuvouch API key, the
// forwarding secret (which signs alerts too) and the admin token.
import { adminSecretsStore } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { reconcileApprovals } from "../src/maintenance/reconcile";
import { callGateway, NOW_MS } from "./support/gateway";
import { TEST_SECRETS } from "./support/secrets";

const FAKE = `${env.NUVOUCH_API_BASE_URL}/ns/secret-rotation`;

beforeAll(async () => {
  await adminSecretsStore(env.STORE_SECRET_C).create(TEST_SECRETS.NUVOUCH_INTEGRATOR_API_KEY);
});
beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const withVars = (vars: Record<string, unknown>) => ({ ...env, NUVOUCH_API_BASE_URL: FAKE, ...vars }) as unknown as Env;

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
