import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consume, countingRegistry } from "./support/consumer";
import { callGateway, deliver, NOW_MS, recordingEnv } from "./support/gateway";
import { nuvouchApprovalEvent, nuvouchConnectionEvent, uniqueId } from "./support/payloads";
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
    { env: options.env, apiClient: { ...fastClient, ...options.client } },
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
    const subjectId = uniqueId("cus");
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

    const externalRequestId = uniqueId("payment_auth");
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
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("race");
    await callback(nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId, subjectId }));
    const response = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(await response.json()).toMatchObject({ status: "approved" });
  });
});

describe("idempotency and recovery", () => {
  it("DUPLICATE_EXTERNAL_ID from Nuvouch falls back to getApprovalRequestByExternalId", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("dup");
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
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("crash");
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
    const subjectId = uniqueId("cus");
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
    const response = await api("POST", "/connections", { subjectId: uniqueId("cus"), contextKey: "ctx" });
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
      { subjectId: uniqueId("cus"), contextKey: "ctx" },
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
      { subjectId: uniqueId("cus"), contextKey: "ctx" },
      { client: { timeoutMs: 150 } },
    );
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: { code: "nuvouch_unavailable", message: expect.stringContaining("TIMEOUT") },
    });
  });

  it("reports Nuvouch down (nothing listening) as unavailable, naming the URL it tried", async () => {
    const down = { ...env, NUVOUCH_API_BASE_URL: "http://127.0.0.1:9" } as Env;
    const response = await api(
      "POST",
      "/connections",
      { subjectId: uniqueId("cus"), contextKey: "ctx" },
      { env: down },
    );
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: {
        code: "nuvouch_unavailable",
        message: expect.stringContaining("http://127.0.0.1:9/v1/connection-sessions"),
      },
    });
  });

  it("503 when no integrator API key is configured", async () => {
    const unset = { ...env, NUVOUCH_INTEGRATOR_API_KEY: "" } as Env;
    const response = await api(
      "POST",
      "/connections",
      { subjectId: uniqueId("cus"), contextKey: "ctx" },
      { env: unset },
    );
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
    const body = _name === "no body fields" ? {} : approvalRequest("cus_x", uniqueId("bad"), overrides);
    const response = await api("POST", "/approvals", body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_json", issues: expect.any(Array) } });
  });

  it("400 for an approval whose expiresAt is already past", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const body = approvalRequest(subjectId, uniqueId("late"), {
      context: { kind: "k", title: "t", reason: "r", expiresAt: "2020-01-01T00:00:00Z" },
    });
    const response = await api("POST", "/approvals", body);
    expect(response.status).toBe(400);
    // Not invalid_json: the body is valid JSON and passes the schema; its deadline has passed.
    expect(await response.json()).toMatchObject({
      error: { code: "expires_at_in_past", message: expect.stringContaining("past") },
    });
  });

  it("409 for an unknown subject, 404 for its connection and for an unknown approval", async () => {
    const subjectId = uniqueId("nobody");
    expect((await api("POST", "/approvals", approvalRequest(subjectId, uniqueId("x")))).status).toBe(409);
    expect((await api("GET", `/connections?subjectId=${subjectId}&contextKey=ctx`)).status).toBe(404);
    expect((await api("GET", "/approvals/never_created")).status).toBe(404);
  });

  it("400 for a connection request without subjectId, and for a query without contextKey", async () => {
    expect((await api("POST", "/connections", { contextKey: "ctx" })).status).toBe(400);
    expect((await api("GET", "/connections?subjectId=x")).status).toBe(400);
  });

  it("a revoked connection stops new approvals", async () => {
    const subjectId = uniqueId("cus");
    const session = await connectSubject(subjectId);
    await callback(
      nuvouchConnectionEvent("nuvouch.connection.revoked", {
        connectionSessionId: session.connectionSessionId,
        subjectId,
        contextKey: "merchant:acct_live_001",
      }),
    );
    const response = await api("POST", "/approvals", approvalRequest(subjectId, uniqueId("after_revoke")));
    expect(response.status).toBe(409);
  });
});

async function fakeSessions(subjectId: string): Promise<{ id: string }[]> {
  return (await fetch(`${FAKE}/_control/sessions?subjectId=${encodeURIComponent(subjectId)}`)).json();
}

async function fakeApprovalPosts(): Promise<number> {
  return (await fakeRequests()).filter((r) => r.method === "POST" && r.path === "/v1/approval-requests").length;
}

/** A crash between the intent and Nuvouch's answer leaves exactly this row behind. */
async function crashedIntent(externalRequestId: string, subjectId: string) {
  await env.DB.prepare(
    `INSERT INTO nuvouch_approvals (external_request_id, subject_id, context_key, status, precedence, created_at, updated_at)
     VALUES (?, ?, 'merchant:acct_live_001', 'creating', '0', 'x', 'x')`,
  )
    .bind(externalRequestId, subjectId)
    .run();
}

describe("approval create after a failure (docs/contract.md §5)", () => {
  it("a `creating` row left by a crash does not skip the connection check: nothing reaches Nuvouch", async () => {
    const connected = uniqueId("cus");
    await connectSubject(connected);
    const externalRequestId = uniqueId("crash_unconnected");
    await crashedIntent(externalRequestId, connected);
    await fakeControl("reset");
    // The retry names another subject, one that never connected.
    const response = await api("POST", "/approvals", approvalRequest(uniqueId("stranger"), externalRequestId));
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { code: "connection_not_accepted" } });
    expect(await fakeApprovalPosts()).toBe(0);
  });

  it("a `creating` row left by a crash does not skip the expiry check", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("crash_expired");
    await crashedIntent(externalRequestId, subjectId);
    await fakeControl("reset");
    const late = approvalRequest(subjectId, externalRequestId, {
      context: { kind: "k", title: "t", reason: "r", expiresAt: "2020-01-01T00:00:00Z" },
    });
    const response = await api("POST", "/approvals", late);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "expires_at_in_past" } });
    expect(await fakeApprovalPosts()).toBe(0);
  });

  it("the same externalRequestId with a different body is 409 idempotency_conflict; the record is unchanged", async () => {
    const subjectId = uniqueId("cus");
    const otherSubject = uniqueId("cus");
    await connectSubject(subjectId);
    await connectSubject(otherSubject);
    const externalRequestId = uniqueId("idem");
    const first = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(first.status).toBe(201);
    const record = (await first.json()) as Record<string, unknown>;

    for (const changed of [
      approvalRequest(subjectId, externalRequestId, { title: "Approve a bigger payment" }),
      approvalRequest(otherSubject, externalRequestId),
      approvalRequest(subjectId, externalRequestId, { risk: undefined }),
    ]) {
      const response = await api("POST", "/approvals", changed);
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ error: { code: "idempotency_conflict" } });
    }
    const stored = await api("GET", `/approvals/${externalRequestId}`);
    expect(await stored.json()).toMatchObject({ ...record, subjectId });
  });

  it("the same request with its keys in another order, or padded ids, is the same request: 200, not a conflict", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("canon");
    const original = approvalRequest(subjectId, externalRequestId);
    const created = await api("POST", "/approvals", original);
    expect(created.status).toBe(201);
    const reordered = Object.fromEntries(Object.entries(original).reverse());
    reordered.targetSubject = { contextKey: "merchant:acct_live_001", subjectId: ` ${subjectId} ` };
    const again = await api("POST", "/approvals", reordered);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await created.json());
  });

  it("a request Nuvouch refused with a 4xx is `failed` with the reason; a different body is a conflict; the same body retries", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("refused");
    await fakeControl("reset");
    await fakeControl("faults", { faults: [{ status: 422, code: "VALIDATION_ERROR" }] });
    const refused = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({
      error: { code: "nuvouch_rejected", nuvouchCode: "VALIDATION_ERROR" },
    });
    expect(await fakeApprovalPosts()).toBe(1); // a 4xx is not retried

    const failed = await api("GET", `/approvals/${externalRequestId}`);
    expect(await failed.json()).toMatchObject({
      externalRequestId,
      approvalRequestId: null,
      status: "failed",
      error: {
        code: "VALIDATION_ERROR",
        status: 422,
        message: expect.stringContaining(`${FAKE}/v1/approval-requests`),
      },
    });

    const different = await api(
      "POST",
      "/approvals",
      approvalRequest(subjectId, externalRequestId, { title: "Other" }),
    );
    expect(different.status).toBe(409);
    expect(await different.json()).toMatchObject({ error: { code: "idempotency_conflict" } });

    const retried = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(retried.status).toBe(201);
    expect(await retried.json()).toMatchObject({ externalRequestId, status: "pending" });
    const after = (await (await api("GET", `/approvals/${externalRequestId}`)).json()) as Record<string, unknown>;
    expect(after.status).toBe("pending");
    expect(after).not.toHaveProperty("error");
  });

  it("a retry of a failed request runs every check again: a revoked connection stops it before Nuvouch", async () => {
    const subjectId = uniqueId("cus");
    const session = await connectSubject(subjectId);
    const externalRequestId = uniqueId("refused_then_revoked");
    await fakeControl("reset");
    await fakeControl("faults", { faults: [{ status: 400, code: "VALIDATION_ERROR" }] });
    expect((await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId))).status).toBe(502);
    await callback(
      nuvouchConnectionEvent("nuvouch.connection.revoked", {
        connectionSessionId: session.connectionSessionId,
        subjectId,
        contextKey: "merchant:acct_live_001",
      }),
    );
    const retried = await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId));
    expect(retried.status).toBe(409);
    expect(await retried.json()).toMatchObject({ error: { code: "connection_not_accepted" } });
    expect(await fakeApprovalPosts()).toBe(1);
    expect(await (await api("GET", `/approvals/${externalRequestId}`)).json()).toMatchObject({ status: "failed" });
  });

  it("two concurrent requests with one externalRequestId and different bodies: one is created, the other is a conflict", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    for (let round = 0; round < 4; round++) {
      const externalRequestId = uniqueId("race_bodies");
      await fakeControl("reset");
      const answers = await Promise.all([
        api("POST", "/approvals", approvalRequest(subjectId, externalRequestId, { title: "A" })),
        api("POST", "/approvals", approvalRequest(subjectId, externalRequestId, { title: "B" })),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
      const conflict = answers.find((r) => r.status === 409) as Response;
      expect(await conflict.json()).toMatchObject({ error: { code: "idempotency_conflict" } });
      expect(await fakeApprovalPosts()).toBe(1);
    }
  });
});

describe("the approval's effect is found by exact keys", () => {
  it("GET /approvals/pfx never reports the effect of approval pfx:other", async () => {
    const prefix = uniqueId("pfx");
    const { registry } = countingRegistry();
    await callback(
      nuvouchApprovalEvent("nuvouch.approval.approved", {
        externalRequestId: `${prefix}:other`,
        approvalRequestId: "apr_o",
      }),
      registry,
    );
    // `pfx` itself is decided by an outcome with no business effect.
    await callback(
      nuvouchApprovalEvent("nuvouch.approval.expired", { externalRequestId: prefix, approvalRequestId: "apr_p" }),
      registry,
    );
    const other = await api("GET", `/approvals/${encodeURIComponent(`${prefix}:other`)}`);
    expect(await other.json()).toMatchObject({ status: "approved", effect: { status: "done", attempts: 1 } });
    const own = await api("GET", `/approvals/${prefix}`);
    expect(await own.json()).toMatchObject({ externalRequestId: prefix, status: "expired", effect: null });
  });

  it("the deciding event's forwarding is not the approval's effect", async () => {
    const externalRequestId = uniqueId("forwarded");
    const forwarding = { ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}/ok` } as Env;
    const { env: testEnv, sent } = recordingEnv();
    await deliver(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.expired", { externalRequestId, approvalRequestId: "apr_f" }),
      { env: testEnv },
    );
    await consume(sent, { env: forwarding, registry: countingRegistry().registry });
    const decidedBy = await env.DB.prepare(
      "SELECT decided_by_event FROM nuvouch_approvals WHERE external_request_id = ?",
    )
      .bind(externalRequestId)
      .first<string>("decided_by_event");
    const forwarded = await env.DB.prepare("SELECT name, status FROM effects WHERE event_id = ?").bind(decidedBy).all();
    expect(forwarded.results).toEqual([{ name: "forward", status: "done" }]);
    const response = await api("GET", `/approvals/${externalRequestId}`);
    expect(await response.json()).toMatchObject({ status: "expired", effect: null });
  });

  it("an approval whose decision is still pending shows no effect, even with effects under a longer id", async () => {
    const subjectId = uniqueId("cus");
    await connectSubject(subjectId);
    const externalRequestId = uniqueId("short");
    expect((await api("POST", "/approvals", approvalRequest(subjectId, externalRequestId))).status).toBe(201);
    await callback(
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: `${externalRequestId}:x`, subjectId }),
      countingRegistry().registry,
    );
    const response = await api("GET", `/approvals/${externalRequestId}`);
    expect(await response.json()).toMatchObject({ status: "pending", effect: null });
  });
});

describe("connection sessions under concurrency", () => {
  it("six concurrent requests for one pair create one Nuvouch session, and all six answer it", async () => {
    const subjectId = uniqueId("cus_concurrent");
    const contextKey = "merchant:acct_live_001";
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api("POST", "/connections", { subjectId, contextKey })),
    );
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { connectionSessionId: string }[];
    expect(await fakeSessions(subjectId)).toHaveLength(1);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(bodies.map((b) => b.connectionSessionId)).size).toBe(1);
    const intents = await env.DB.prepare("SELECT count(*) AS n FROM nuvouch_connection_intents WHERE subject_id = ?")
      .bind(subjectId)
      .first<number>("n");
    expect(intents).toBe(0);
  });

  it("a session stored between a request's first look and its claim is answered, not duplicated", async () => {
    const subjectId = uniqueId("cus_between");
    // Another request finishes (stores its session, releases its claim) just as this one
    // claims: injected into D1 right before the claim statement runs.
    let injected = false;
    const racing = {
      ...env,
      DB: new Proxy(env.DB, {
        get(target, key) {
          if (key !== "prepare") return Reflect.get(target, key).bind(target);
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (injected || !sql.includes("INSERT INTO nuvouch_connection_intents")) return statement;
            injected = true;
            return {
              bind: (...params: unknown[]) => {
                const bound = statement.bind(...params);
                return {
                  first: async (column: string) => {
                    await target
                      .prepare(
                        `INSERT INTO nuvouch_connections (connection_session_id, subject_id, context_key, status, precedence,
                           expires_at, created_at, updated_at)
                         VALUES ('cs_other_request', ?, 'ctx', 'pending', '0', '2099-01-01T00:00:00.000Z', 'x', 'x')`,
                      )
                      .bind(subjectId)
                      .run();
                    return bound.first(column);
                  },
                };
              },
            };
          };
        },
      }),
    } as Env;
    const response = await api("POST", "/connections", { subjectId, contextKey: "ctx" }, { env: racing });
    expect(injected).toBe(true);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ connectionSessionId: "cs_other_request" });
    expect(await fakeSessions(subjectId)).toHaveLength(0);
  });

  it("a request that finds the pair claimed and no session appearing answers 409 with Retry-After", async () => {
    const subjectId = uniqueId("cus_claimed");
    await env.DB.prepare(
      "INSERT INTO nuvouch_connection_intents (subject_id, context_key, claim_id, lease_until, created_at) VALUES (?, 'ctx', 'other', ?, 'x')",
    )
      .bind(subjectId, Number.MAX_SAFE_INTEGER)
      .run();
    const response = await api("POST", "/connections", { subjectId, contextKey: "ctx" });
    expect(response.status).toBe(409);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: { code: "connection_in_progress" } });
    expect(await fakeSessions(subjectId)).toHaveLength(0);
  }, 15_000); // it waits (about 2 s) for a session that never comes

  it("a claim whose holder died (lease expired) is taken over", async () => {
    const subjectId = uniqueId("cus_stale_claim");
    await env.DB.prepare(
      "INSERT INTO nuvouch_connection_intents (subject_id, context_key, claim_id, lease_until, created_at) VALUES (?, 'ctx', 'dead', ?, 'x')",
    )
      .bind(subjectId, NOW_MS - 1)
      .run();
    const response = await api("POST", "/connections", { subjectId, contextKey: "ctx" });
    expect(response.status).toBe(201);
    expect(await fakeSessions(subjectId)).toHaveLength(1);
  });

  it("a failed create releases the claim: the next request creates the session", async () => {
    const subjectId = uniqueId("cus_failed_claim");
    await fakeControl("reset");
    await fakeControl("faults", { faults: [{ status: 400, code: "VALIDATION_ERROR" }] });
    expect((await api("POST", "/connections", { subjectId, contextKey: "ctx" })).status).toBe(502);
    expect((await api("POST", "/connections", { subjectId, contextKey: "ctx" })).status).toBe(201);
  });

  it("a session id Nuvouch already gave another subject is 502 nuvouch_rejected, and nothing changes", async () => {
    const owner = uniqueId("cus_owner");
    const created = (await (await api("POST", "/connections", { subjectId: owner, contextKey: "ctx" })).json()) as {
      connectionSessionId: string;
      shortCode: string;
    };
    const before = await env.DB.prepare("SELECT * FROM nuvouch_connections WHERE connection_session_id = ?")
      .bind(created.connectionSessionId)
      .first();

    const intruder = uniqueId("cus_intruder");
    await fakeControl("faults", {
      faults: [
        {
          status: 201,
          body: {
            id: created.connectionSessionId,
            status: "pending",
            shortCode: "ZZZZZZ",
            qrCodeUrl: "https://nuvouch.example/connect/reused.png",
            expiresAt: "2099-01-01T00:00:00.000Z",
          },
        },
      ],
    });
    const response = await api("POST", "/connections", { subjectId: intruder, contextKey: "ctx" });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "nuvouch_rejected" } });

    const after = await env.DB.prepare("SELECT * FROM nuvouch_connections WHERE connection_session_id = ?")
      .bind(created.connectionSessionId)
      .first();
    expect(after).toEqual(before);
    expect((await api("GET", `/connections?subjectId=${intruder}&contextKey=ctx`)).status).toBe(404);
    // The claim was released: the intruder's next request gets a session of its own.
    expect((await api("POST", "/connections", { subjectId: intruder, contextKey: "ctx" })).status).toBe(201);
  });
});

describe("Nuvouch rate limits never hold the caller past the budget", () => {
  /** A clock that only the client's sleeps move: waits are counted, never spent. */
  function virtualTime() {
    let now = 0;
    const slept: number[] = [];
    return {
      slept,
      client: {
        now: () => now,
        sleep: async (ms: number) => {
          slept.push(ms);
          now += ms;
        },
      },
    };
  }

  /** A connection request while the fake answers `faults` first, on a virtual clock. */
  async function connectUnder(faults: { status: number; retryAfter: number }[]) {
    const time = virtualTime();
    await fakeControl("reset");
    await fakeControl("faults", { faults });
    const response = await api(
      "POST",
      "/connections",
      { subjectId: uniqueId("cus"), contextKey: "ctx" },
      { client: time.client },
    );
    return { response, slept: time.slept };
  }

  it("a 429 with Retry-After: 30 is answered at once with 503 and Retry-After: 30, not held 60 s", async () => {
    const { response, slept } = await connectUnder([
      { status: 429, retryAfter: 30 },
      { status: 429, retryAfter: 30 },
    ]);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(await response.json()).toMatchObject({
      error: { code: "nuvouch_rate_limited", message: expect.stringContaining(`${FAKE}/v1/connection-sessions`) },
    });
    expect(slept).toEqual([]);
    expect(await fakeRequests()).toHaveLength(1);
    await fakeControl("reset");
  });

  it("waits that fit the budget are waited; the one that would not fit is handed to the caller", async () => {
    const { response, slept } = await connectUnder([
      { status: 429, retryAfter: 6 },
      { status: 429, retryAfter: 6 },
    ]);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("6");
    expect(slept).toEqual([6000]);
    expect(await fakeRequests()).toHaveLength(2);
  });

  it("a 429 on the last attempt is 503 with Retry-After, too", async () => {
    const { response, slept } = await connectUnder([
      { status: 429, retryAfter: 1 },
      { status: 429, retryAfter: 1 },
      { status: 429, retryAfter: 2 },
    ]);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(slept).toEqual([1000, 1000]);
  });
});
