import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { reconcileApprovals } from "../src/maintenance/reconcile";
import { EVERY_FIVE_MINUTES } from "../src/maintenance/schedule";
import { approvalRequestBody } from "../src/providers/nuvouch/simulator.node.ts";
import type { EventMessage } from "../src/queue/message";
import { consume, countingRegistry, eventRow, messageFor } from "./support/consumer";
import { callGateway, deliver, NOW_MS, recordingEnv } from "./support/gateway";
import { nuvouchApprovalEvent, nuvouchConnectionEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

// Scheduled reconciliation (docs/contract.md §9) against the fake Nuvouch, in a namespace of its
// own (scripts/fake-nuvouch/server.ts) so the faults queued here meet only these requests.

const FAKE = `${env.NUVOUCH_API_BASE_URL}/ns/reconcile`;
const fakeEnv = { ...env, NUVOUCH_API_BASE_URL: FAKE } as Env;
const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}`, "content-type": "application/json" };
const CONTEXT = "merchant:acct_live_001";
const MINUTE = 60_000;
/** Past the default RECONCILE_AFTER_SECONDS (900) after NOW_MS, when the approvals below were created. */
const DUE = NOW_MS + 16 * MINUTE;

afterEach(() => {
  vi.restoreAllMocks();
});

let n = 0;
const unique = (label: string) => `${label}_${++n}_${Date.now().toString(36)}`;

function api(method: string, path: string, body?: unknown) {
  return callGateway(
    new Request(`https://gateway.test/api/nuvouch${path}`, {
      method,
      headers: auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { env: fakeEnv, apiClient: { backoffMs: 1, sleep: async () => {} } },
  );
}

async function fake(path: string, init: RequestInit = {}) {
  const response = await fetch(`${FAKE}/_control/${path}`, { method: "POST", ...init });
  expect(response.ok).toBe(true);
  return response;
}

async function lookups(): Promise<string[]> {
  const requests = (await (await fetch(`${FAKE}/_control/requests`)).json()) as { method: string; path: string }[];
  const prefix = "/v1/approval-requests/by-external-id/";
  return requests.filter((r) => r.method === "GET").map((r) => decodeURIComponent(r.path.slice(prefix.length)));
}

/** A signed callback through ingest and the consumer. */
async function callback(payload: object, registry = countingRegistry().registry) {
  const { env: testEnv, sent } = recordingEnv();
  const response = await deliver("nuvouch", payload, { env: testEnv });
  expect([200, 202]).toContain(response.status);
  await consume(sent, { registry });
}

/** A connected subject with one approval pending at Nuvouch and here. */
async function pendingApproval() {
  const subjectId = unique("cus");
  const session = (await (await api("POST", "/connections", { subjectId, contextKey: CONTEXT })).json()) as {
    connectionSessionId: string;
  };
  await callback(
    nuvouchConnectionEvent("nuvouch.connection.accepted", {
      connectionSessionId: session.connectionSessionId,
      subjectId,
      contextKey: CONTEXT,
    }),
  );
  const externalRequestId = unique("payment_auth");
  const created = await api(
    "POST",
    "/approvals",
    approvalRequestBody({ subjectId, contextKey: CONTEXT, externalRequestId, expiresAt: "2026-11-23T18:00:00.000Z" }),
  );
  expect(created.status).toBe(201);
  const { approvalRequestId } = (await created.json()) as { approvalRequestId: string };
  return { subjectId, externalRequestId, approvalRequestId };
}

async function approval(externalRequestId: string) {
  return (await api("GET", `/approvals/${encodeURIComponent(externalRequestId)}`)).json() as Promise<
    Record<string, unknown>
  >;
}

/** Runs reconciliation with the queue recorded; only the messages it sent come back. */
async function reconcile(nowMs: number, options: { limit?: number; vars?: Partial<Env> } = {}) {
  const { env: testEnv, sent } = recordingEnv({ NUVOUCH_API_BASE_URL: FAKE, ...options.vars } as Partial<Env>);
  const summary = await reconcileApprovals(testEnv, { nowMs, limit: options.limit });
  return { summary, sent: sent as EventMessage[] };
}

/** A pending row for an approval Nuvouch does not know: enough to watch the lookup order. */
async function pendingRow(externalRequestId: string, createdAt: string) {
  await env.DB.prepare(
    `INSERT INTO nuvouch_approvals (external_request_id, approval_request_id, subject_id, context_key, status,
       precedence, created_at, updated_at)
     VALUES (?1, 'apr_x', 'cus_x', 'ctx', 'pending', '1', ?2, ?2)`,
  )
    .bind(externalRequestId, createdAt)
    .run();
}

describe("a decision made at Nuvouch whose callback never came", () => {
  it("becomes decided within one run, recorded as a nuvouch event, with its effect exactly once; a late callback is a no-op", async () => {
    const { subjectId, externalRequestId, approvalRequestId } = await pendingApproval();
    await fake(`decisions/approve/${externalRequestId}`);

    const { summary, sent } = await reconcile(DUE);
    const mine = sent.filter((m) => m.payload?.includes(externalRequestId));
    expect(mine).toHaveLength(1);
    const [message] = mine as [EventMessage];
    expect(message).toMatchObject({
      provider: "nuvouch",
      type: "nuvouch.approval.approved",
      dedupeKey: `reconcile_${approvalRequestId}_approved`,
    });
    expect(summary.decided).toBeGreaterThanOrEqual(1);
    // The docs/contract.md §4 callback shape, so the consumer treats it as Nuvouch's own.
    expect(JSON.parse(message.payload as string)).toMatchObject({
      id: `reconcile_${approvalRequestId}_approved`,
      type: "nuvouch.approval.approved",
      data: { approvalRequestId, externalRequestId, subjectId, contextKey: CONTEXT, decidedAt: expect.any(String) },
    });
    // What ingest would have queued for the same body: same event id, same fields.
    const asIngest = await messageFor("nuvouch", message.payload as string);
    expect({ ...message, receivedAt: "" }).toEqual({ ...asIngest, receivedAt: "" });

    const { registry, runs } = countingRegistry();
    await consume([message], { registry });
    expect(runs.filter((r) => r.externalRequestId === externalRequestId)).toHaveLength(1);
    expect(await approval(externalRequestId)).toMatchObject({
      status: "approved",
      approvalRequestId,
      effect: { status: "done", attempts: 1 },
    });
    expect(await eventRow(message.id)).toMatchObject({
      provider: "nuvouch",
      type: "nuvouch.approval.approved",
      status: "processed",
    });

    // Nuvouch's own callback, late: a new event, but the approval is decided and nothing runs.
    await callback(
      nuvouchApprovalEvent("nuvouch.approval.approved", {
        approvalRequestId,
        externalRequestId,
        subjectId,
        contextKey: CONTEXT,
      }),
      registry,
    );
    await callback(
      nuvouchApprovalEvent("nuvouch.approval.denied", { approvalRequestId, externalRequestId, subjectId }),
      registry,
    );
    expect(runs.filter((r) => r.externalRequestId === externalRequestId)).toHaveLength(1);
    expect(await approval(externalRequestId)).toMatchObject({ status: "approved" });

    // Decided: the next run does not ask Nuvouch about it again.
    await fake("reset");
    await reconcile(DUE + 30 * MINUTE);
    expect(await lookups()).not.toContain(externalRequestId);
  });

  it("the reconciled event and Nuvouch's callback in one batch still run the effect once", async () => {
    const { subjectId, externalRequestId, approvalRequestId } = await pendingApproval();
    await fake(`decisions/deny/${externalRequestId}`);
    const { sent } = await reconcile(DUE);
    const reconciled = sent.filter((m) => m.payload?.includes(externalRequestId));
    expect(reconciled).toHaveLength(1);
    const real = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.denied", { approvalRequestId, externalRequestId, subjectId }),
    );
    const { registry, runs } = countingRegistry();
    await consume([...reconciled, real, ...reconciled], { registry });
    expect(runs.filter((r) => r.externalRequestId === externalRequestId)).toEqual([
      expect.objectContaining({ name: "on-denied" }),
    ]);
    expect(await approval(externalRequestId)).toMatchObject({ status: "denied", effect: { status: "done" } });
  });

  it("a decision found twice before it is processed is sent byte for byte the same: one event, no conflict", async () => {
    const { externalRequestId } = await pendingApproval();
    await fake(`decisions/cancel/${externalRequestId}`);
    const first = (await reconcile(DUE)).sent.filter((m) => m.payload?.includes(externalRequestId));
    // Looked up again once it is due again, still pending here because nothing consumed it.
    const second = (await reconcile(DUE + 16 * MINUTE)).sent.filter((m) => m.payload?.includes(externalRequestId));
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(second[0]?.id).toBe(first[0]?.id);
    expect(second[0]?.payload).toBe(first[0]?.payload);
    await consume([...first, ...second]);
    expect(await approval(externalRequestId)).toMatchObject({ status: "cancelled" });
  });

  it("an approval still pending at Nuvouch stays pending, and nothing is queued", async () => {
    const { externalRequestId } = await pendingApproval();
    const { sent } = await reconcile(DUE);
    expect(sent.filter((m) => m.payload?.includes(externalRequestId))).toEqual([]);
    expect(await approval(externalRequestId)).toMatchObject({ status: "pending" });
  });
});

describe("which approvals a run looks up", () => {
  it("only those pending longer than RECONCILE_AFTER_SECONDS (default 900)", async () => {
    const { externalRequestId } = await pendingApproval();
    await fake(`decisions/approve/${externalRequestId}`);
    await fake("reset");
    await reconcile(NOW_MS + 14 * MINUTE);
    expect(await lookups()).not.toContain(externalRequestId);
    await reconcile(NOW_MS + 14 * MINUTE, { vars: { RECONCILE_AFTER_SECONDS: "600" } as Partial<Env> });
    expect(await lookups()).toContain(externalRequestId);
  });

  it("oldest first, a bounded batch per run, and one looked at waits its turn again", async () => {
    const ids = [unique("old_a"), unique("old_b"), unique("old_c")];
    // Older than anything else in this file's database, inserted out of order.
    await pendingRow(ids[2] as string, "2020-01-01T00:00:03.000Z");
    await pendingRow(ids[0] as string, "2020-01-01T00:00:01.000Z");
    await pendingRow(ids[1] as string, "2020-01-01T00:00:02.000Z");
    await fake("reset");
    const first = await reconcile(DUE, { limit: 2 });
    expect(await lookups()).toEqual([ids[0], ids[1]]);
    expect(first.summary).toMatchObject({ due: 2, looked: 2, unknown: 2, stoppedBy: null });

    await fake("reset");
    await reconcile(DUE + MINUTE, { limit: 2 });
    // ids[0] and ids[1] were just looked at: not due again for 900 s.
    expect((await lookups())[0]).toBe(ids[2]);
    expect(await lookups()).not.toContain(ids[0]);
  });

  it("a 429 ends the run at once, with its Retry-After in the summary, and the approvals stay due", async () => {
    const ids = [unique("limited_a"), unique("limited_b")];
    await pendingRow(ids[0] as string, "2019-01-01T00:00:01.000Z");
    await pendingRow(ids[1] as string, "2019-01-01T00:00:02.000Z");
    await fake("reset");
    await fake("faults", { body: JSON.stringify({ faults: [{ status: 429, retryAfter: 120 }] }) });
    const { summary } = await reconcile(DUE, { limit: 2 });
    expect(summary).toMatchObject({ looked: 0, stoppedBy: "rate_limited", retryAfterSeconds: 120 });
    expect(await lookups()).toEqual([ids[0]]);

    // Once the 120 s have passed, both are looked up again.
    await fake("reset");
    await reconcile(DUE + 3 * MINUTE, { limit: 2 });
    expect(await lookups()).toEqual(ids);
  });

  it("a long Retry-After is kept: runs before it has passed make no lookup and say until when", async () => {
    const id = unique("held");
    await pendingRow(id, "2019-06-01T00:00:01.000Z");
    await fake("reset");
    await fake("faults", { body: JSON.stringify({ faults: [{ status: 429, retryAfter: 900 }] }) });
    expect((await reconcile(DUE, { limit: 1 })).summary).toMatchObject({
      stoppedBy: "rate_limited",
      retryAfterSeconds: 900,
    });
    expect(await lookups()).toEqual([id]);

    await fake("reset");
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const until = new Date(DUE + 15 * MINUTE).toISOString();
    expect((await reconcile(DUE + 5 * MINUTE, { limit: 1 })).summary).toMatchObject({
      due: 0,
      looked: 0,
      stoppedBy: "rate_limited",
      skippedUntil: until,
    });
    expect(await lookups()).toEqual([]);
    const summaries = lines.map((line) => JSON.parse(line)).filter((l) => l.message === "nuvouch reconciliation");
    expect(summaries).toEqual([expect.objectContaining({ skipped: true, skippedUntil: until })]);

    const later = await reconcile(DUE + 16 * MINUTE, { limit: 1 });
    expect(later.summary).toMatchObject({ looked: 1, stoppedBy: null });
    expect(later.summary.skippedUntil).toBeUndefined();
    expect(await lookups()).toEqual([id]);
  });

  it("Nuvouch unavailable ends the run; a 4xx for one approval does not", async () => {
    const ids = [unique("down_a"), unique("down_b")];
    await pendingRow(ids[0] as string, "2018-01-01T00:00:01.000Z");
    await pendingRow(ids[1] as string, "2018-01-01T00:00:02.000Z");
    await fake("reset");
    await fake("faults", { body: JSON.stringify({ faults: [{ status: 503 }] }) });
    expect((await reconcile(DUE, { limit: 2 })).summary).toMatchObject({ stoppedBy: "nuvouch_unavailable" });
    expect(await lookups()).toEqual([ids[0]]);

    await fake("reset");
    await fake("faults", { body: JSON.stringify({ faults: [{ status: 400, code: "BAD_ID" }] }) });
    expect((await reconcile(DUE, { limit: 2 })).summary).toMatchObject({ failed: 1, unknown: 1, stoppedBy: null });
    expect(await lookups()).toEqual(ids);
  });

  it("logs one summary line per run", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    await reconcile(DUE + 60 * MINUTE, { limit: 1 });
    const summaries = lines.map((line) => JSON.parse(line)).filter((l) => l.message === "nuvouch reconciliation");
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ due: 1, looked: 1, decided: expect.any(Number), stoppedBy: null });
  });

  it("does nothing but say so when no integrator API key is set", async () => {
    const { summary, sent } = await reconcile(DUE, { vars: { NUVOUCH_INTEGRATOR_API_KEY: "" } as Partial<Env> });
    expect(summary).toMatchObject({ stoppedBy: "not_configured", due: 0 });
    expect(sent).toEqual([]);
  });
});

describe("the */5 cron", () => {
  it("runs reconciliation: a missed decision is queued", async () => {
    const { externalRequestId } = await pendingApproval();
    await fake(`decisions/approve/${externalRequestId}`);
    const { env: testEnv, sent } = recordingEnv({ NUVOUCH_API_BASE_URL: FAKE } as Partial<Env>);
    await worker.scheduled(createScheduledController({ scheduledTime: DUE, cron: EVERY_FIVE_MINUTES }), testEnv);
    const mine = (sent as EventMessage[]).filter((m) => m.payload?.includes(externalRequestId));
    expect(mine.map((m) => m.type)).toEqual(["nuvouch.approval.approved"]);
  });

  it("the daily cron does not reconcile", async () => {
    const { externalRequestId } = await pendingApproval();
    await fake(`decisions/approve/${externalRequestId}`);
    const { env: testEnv, sent } = recordingEnv({ NUVOUCH_API_BASE_URL: FAKE } as Partial<Env>);
    await worker.scheduled(createScheduledController({ scheduledTime: DUE, cron: "17 3 * * *" }), testEnv);
    expect(sent).toEqual([]);
  });
});
