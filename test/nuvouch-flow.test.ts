import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consume, countingRegistry } from "./support/consumer";
import { callGateway, deliver, recordingEnv } from "./support/gateway";
import { nuvouchApprovalEvent, nuvouchConnectionEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

// The integrator's whole loop through the real worker, against the fake Nuvouch API that
// test/support/global-setup.ts serves on 127.0.0.1 (docs/contract.md §8).

const FAKE = env.NUVOUCH_API_BASE_URL;
const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}`, "content-type": "application/json" };
const sleeps: number[] = [];
const fastClient = { backoffMs: 1, sleep: async (ms: number) => void sleeps.push(ms) };

function api(method: string, path: string, body?: unknown, options: { env?: Env; client?: object } = {}) {
  return callGateway(
    new Request(`https://gateway.test/api/nuvouch${path}`, {
      method,
      headers: auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { env: options.env, nuvouchClient: { ...fastClient, ...options.client } },
  );
}

async function fakeControl(path: string, body?: unknown) {
  return fetch(`${FAKE}/_control/${path}`, {
    method: "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function fakeRequests(): Promise<{ method: string; path: string }[]> {
  return (await fetch(`${FAKE}/_control/requests`)).json();
}

let n = 0;
const unique = (label: string) => `${label}_${++n}_${Date.now().toString(36)}`;

function approvalRequest(subjectId: string, externalRequestId: string, overrides: Record<string, unknown> = {}) {
  return {
    targetSubject: { subjectId, contextKey: "merchant:acct_live_001" },
    externalRequestId,
    title: "Approve payment",
    summary: "Stripe needs the customer to confirm a high-risk payment.",
    requestedFor: "Payment authorization",
    actor: {
      id: "payments_agent_01",
      name: "Stripe Payment Agent",
      subtitle: "Payments risk workflow",
      avatarLabel: "ST",
    },
    context: {
      kind: "digital-service",
      title: "Card payment",
      reason: "High-risk payment requires customer confirmation",
      expiresAt: "2026-11-23T18:00:00.000Z",
      referenceCode: "pi_123",
    },
    risk: { level: "high", summary: "Customer confirmation required before capture" },
    ...overrides,
  };
}

/** A signed callback, in through ingest and out through the real consumer. */
async function callback(payload: object, registry = countingRegistry().registry) {
  const { env: testEnv, sent } = recordingEnv();
  const response = await deliver("nuvouch", payload, { env: testEnv });
  expect([200, 202]).toContain(response.status);
  if (sent.length) await consume(sent, { registry });
  return response;
}

async function connectSubject(subjectId: string) {
  const created = await api("POST", "/connections", { subjectId, contextKey: "merchant:acct_live_001" });
  const session = (await created.json()) as { connectionSessionId: string };
  await callback(
    nuvouchConnectionEvent("nuvouch.connection.accepted", {
      connectionSessionId: session.connectionSessionId,
      subjectId,
      contextKey: "merchant:acct_live_001",
    }),
  );
  return session;
}

describe("the first working loop", () => {
  it("connect → accepted callback → approval → repeat → approved ×3 → effect once → late denied changes nothing", async () => {
    const subjectId = unique("cus");
    const contextKey = "merchant:acct_live_001";

    const created = await api("POST", "/connections", { subjectId, contextKey });
    expect(created.status).toBe(201);
    const session = (await created.json()) as Record<string, string>;
    expect(session).toMatchObject({ subjectId, contextKey, status: "pending", shortCode: expect.any(String) });
    expect(session.qrCodeUrl).toMatch(/^https:\/\//);
    expect(session.connectionSessionId).toMatch(/^cs_/);

    // A second connect returns the live session rather than a new QR code.
    const again = await api("POST", "/connections", { subjectId, contextKey });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ connectionSessionId: session.connectionSessionId, status: "pending" });

    const externalRequestId = unique("payment_auth");
    const early = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: { code: "connection_not_accepted" } });

    await callback(
      nuvouchConnectionEvent("nuvouch.connection.accepted", {
        connectionSessionId: session.connectionSessionId,
        subjectId,
        contextKey,
      }),
    );
    const connection = await api("GET", `/connections?subjectId=${subjectId}&contextKey=${contextKey}`);
    expect(await connection.json()).toMatchObject({
      connectionSessionId: session.connectionSessionId,
      status: "accepted",
    });

    const approval = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(approval.status).toBe(201);
    const record = (await approval.json()) as { approvalRequestId: string };
    expect(record).toEqual({ approvalRequestId: expect.stringMatching(/^apr_/), externalRequestId, status: "pending" });

    const repeat = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual(record);

    const { registry, runs } = countingRegistry();
    const decided = nuvouchApprovalEvent("nuvouch.approval.approved", {
      approvalRequestId: record.approvalRequestId,
      externalRequestId,
      subjectId,
      contextKey,
    });
    for (let i = 0; i < 3; i++) await callback(decided, registry);
    expect(runs).toHaveLength(1);

    const late = nuvouchApprovalEvent("nuvouch.approval.denied", { externalRequestId, subjectId, contextKey });
    await callback(late, registry);
    expect(runs).toHaveLength(1);

    const final = await api("GET", `/approvals/${externalRequestId}`);
    expect(await final.json()).toEqual({
      approvalRequestId: record.approvalRequestId,
      externalRequestId,
      subjectId,
      contextKey,
      status: "approved",
      decidedAt: expect.any(String),
      effect: { status: "done", attempts: 1 },
    });
  });

  it("an approved callback that overtakes Nuvouch's create answer is not turned back to pending", async () => {
    const subjectId = unique("cus");
    await connectSubject(subjectId);
    const externalRequestId = unique("race");
    await callback(nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId, subjectId }));
    const response = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(await response.json()).toMatchObject({ status: "approved" });
  });
});

describe("idempotency and recovery", () => {
  it("DUPLICATE_EXTERNAL_ID from Nuvouch falls back to getApprovalRequestByExternalId", async () => {
    const subjectId = unique("cus");
    await connectSubject(subjectId);
    const externalRequestId = unique("dup");
    const direct = await fetch(`${FAKE}/v1/approval-requests`, {
      method: "POST",
      headers: { "x-api-key": TEST_SECRETS.NUVOUCH_INTEGRATOR_API_KEY, "content-type": "application/json" },
      body: JSON.stringify(approvalRequest(subjectId, externalRequestId)),
    });
    const existing = (await direct.json()) as { id: string };
    const response = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ approvalRequestId: existing.id, externalRequestId, status: "pending" });
  });

  it("an intent left by a crash before the call is completed by the next identical request", async () => {
    const subjectId = unique("cus");
    await connectSubject(subjectId);
    const externalRequestId = unique("crash");
    await env.DB.prepare(
      `INSERT INTO nuvouch_approvals (external_request_id, subject_id, context_key, status, precedence, created_at, updated_at)
       VALUES (?, ?, 'merchant:acct_live_001', 'creating', '0', 'x', 'x')`,
    )
      .bind(externalRequestId, subjectId)
      .run();
    const response = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect([200, 201]).toContain(response.status);
    expect(await response.json()).toMatchObject({
      externalRequestId,
      status: "pending",
      approvalRequestId: expect.any(String),
    });
  });
});

describe("Nuvouch misbehaving", () => {
  it("retries a 429 after its Retry-After, and a 500, then succeeds", async () => {
    const subjectId = unique("cus");
    sleeps.length = 0;
    await fakeControl("faults", { faults: [{ status: 429, retryAfter: 2 }, { status: 500 }] });
    const response = await api("POST", "/connections", { subjectId, contextKey: "ctx" });
    expect(response.status).toBe(201);
    expect(sleeps[0]).toBe(2000);
    expect(sleeps).toHaveLength(2);
  });

  it("gives up after three 5xx answers with a clear 502", async () => {
    await fakeControl("reset");
    await fakeControl("faults", { faults: [{ status: 503 }, { status: 502 }, { status: 500 }] });
    const response = await api("POST", "/connections", { subjectId: unique("cus"), contextKey: "ctx" });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "nuvouch_unavailable" } });
    expect(await fakeRequests()).toHaveLength(3);
  });

  it("answers a refused API key with 502 and a hint, without retrying", async () => {
    await fakeControl("reset");
    const wrongKey = { ...env, NUVOUCH_INTEGRATOR_API_KEY: "itg_wrong" } as Env;
    const response = await api(
      "POST",
      "/connections",
      { subjectId: unique("cus"), contextKey: "ctx" },
      { env: wrongKey },
    );
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: { code: "nuvouch_unauthorized", message: expect.stringContaining("NUVOUCH_INTEGRATOR_API_KEY") },
    });
    expect(await fakeRequests()).toHaveLength(1);
  });

  it("times out a slow answer and reports Nuvouch unavailable", async () => {
    await fakeControl("reset");
    await fakeControl("faults", { faults: [{ delayMs: 600 }, { delayMs: 600 }, { delayMs: 600 }] });
    const response = await api(
      "POST",
      "/connections",
      { subjectId: unique("cus"), contextKey: "ctx" },
      { client: { timeoutMs: 150 } },
    );
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: { code: "nuvouch_unavailable", message: expect.stringContaining("TIMEOUT") },
    });
  });

  it("reports Nuvouch down (nothing listening) as unavailable", async () => {
    const down = { ...env, NUVOUCH_API_BASE_URL: "http://127.0.0.1:9" } as Env;
    const response = await api("POST", "/connections", { subjectId: unique("cus"), contextKey: "ctx" }, { env: down });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "nuvouch_unavailable" } });
  });

  it("503 when no integrator API key is configured", async () => {
    const unset = { ...env, NUVOUCH_INTEGRATOR_API_KEY: "" } as Env;
    const response = await api("POST", "/connections", { subjectId: unique("cus"), contextKey: "ctx" }, { env: unset });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "nuvouch_not_configured" } });
  });
});

describe("bad input", () => {
  it.each([
    ["no body fields", {}],
    ["a missing title", { title: undefined }],
    ["a risk level Nuvouch does not know", { risk: { level: "extreme", summary: "x" } }],
    ["a malformed expiresAt", { context: { kind: "k", title: "t", reason: "r", expiresAt: "tomorrow" } }],
    ["an externalRequestId with a space", { externalRequestId: "has space" }],
  ])("400 with the zod issues for %s", async (_name, overrides) => {
    const body = _name === "no body fields" ? {} : approvalRequest("cus_x", unique("bad"), overrides);
    const response = await api("POST", "/approvals", body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_json", issues: expect.any(Array) } });
  });

  it("400 for an approval whose expiresAt is already past", async () => {
    const subjectId = unique("cus");
    await connectSubject(subjectId);
    const body = approvalRequest(subjectId, unique("late"), {
      context: { kind: "k", title: "t", reason: "r", expiresAt: "2020-01-01T00:00:00Z" },
    });
    const response = await api("POST", "/approvals", body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("past") } });
  });

  it("409 for an unknown subject, 404 for its connection and for an unknown approval", async () => {
    const subjectId = unique("nobody");
    expect((await api("POST", "/approvals", approvalRequest(subjectId, unique("x")))).status).toBe(409);
    expect((await api("GET", `/connections?subjectId=${subjectId}&contextKey=ctx`)).status).toBe(404);
    expect((await api("GET", "/approvals/never_created")).status).toBe(404);
  });

  it("400 for a connection request without subjectId, and for a query without contextKey", async () => {
    expect((await api("POST", "/connections", { contextKey: "ctx" })).status).toBe(400);
    expect((await api("GET", "/connections?subjectId=x")).status).toBe(400);
  });

  it("a revoked connection stops new approvals", async () => {
    const subjectId = unique("cus");
    const session = await connectSubject(subjectId);
    await callback(
      nuvouchConnectionEvent("nuvouch.connection.revoked", {
        connectionSessionId: session.connectionSessionId,
        subjectId,
        contextKey: "merchant:acct_live_001",
      }),
    );
    const response = await api("POST", "/approvals", approvalRequest(subjectId, unique("after_revoke")));
    expect(response.status).toBe(409);
  });
});
