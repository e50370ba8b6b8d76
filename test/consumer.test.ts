import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import {
  approvalRow,
  consume,
  countingRegistry,
  effectRows,
  eventRow,
  hangingRegistry,
  messageFor,
} from "./support/consumer";
import { d1Failing, d1With } from "./support/faults";
import { NOW_MS } from "./support/gateway";
import { novaEvent, nuveiWebhook, nuvouchApprovalEvent, nuvouchConnectionEvent, uniqueId } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

afterEach(() => vi.restoreAllMocks());

describe("recording events", () => {
  it("records a new event as processed, with its payload as received", async () => {
    const message = await messageFor("nova", novaEvent({ type: "survey.completed" }));
    const result = await consume([message]);
    expect(result.acked).toHaveLength(1);
    expect(await eventRow(message.id)).toMatchObject({
      provider: "nova",
      dedupe_key: message.dedupeKey,
      type: "survey.completed",
      status: "processed",
      attempts: 1,
      payload: message.payload,
      received_at: message.receivedAt,
      occurred_at: message.occurredAt,
    });
  });

  it("acks a redelivered message without recording or applying it again (KV entry long gone)", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message]);
    expect(await env.DEDUPE_KV.get(`dedupe:nova:${message.dedupeKey}`)).toBeNull();
    const again = await consume([message, message]);
    expect(again.acked).toHaveLength(2);
    expect(await eventRow(message.id)).toMatchObject({ attempts: 1, status: "processed" });
  });

  it("acks and drops malformed messages instead of retrying them forever, without blocking the batch", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    const good = await messageFor("nova", novaEvent());
    const result = await consume([{ nonsense: true }, "text", good, { ...good, provider: "stripe" }]);
    expect(result.acked).toHaveLength(4);
    expect(result.retried.size).toBe(0);
    expect(await eventRow(good.id)).toMatchObject({ status: "processed" });
    expect(errors.filter((line) => line.includes("dropped"))).toHaveLength(3);
  });

  it("loads a payload parked in D1 and removes the parked copy in the same transaction", async () => {
    const message = await messageFor("nova", novaEvent({ data: { blob: "y".repeat(200_000) } }));
    await env.DB.prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES (?, ?, 0)")
      .bind(message.id, message.payload)
      .run();
    const { payload, ...reference } = message;
    await consume([{ ...reference, payloadRef: message.id }]);
    expect((await eventRow(message.id))?.payload).toBe(payload);
    expect(await env.DB.prepare("SELECT 1 FROM payload_blobs WHERE id = ?").bind(message.id).first()).toBeNull();
  });

  it("a duplicate message that carried a parked payload removes it", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message]);
    await env.DB.prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES (?, ?, 0)")
      .bind(message.id, message.payload)
      .run();
    const { payload: _inline, ...reference } = message;
    await consume([{ ...reference, payloadRef: message.id }]);
    expect(await env.DB.prepare("SELECT 1 FROM payload_blobs WHERE id = ?").bind(message.id).first()).toBeNull();
  });

  it("a redelivered dead event stays dead and runs nothing; only a replay revives it", async () => {
    const { registry, runs, behaviour } = countingRegistry();
    behaviour.failures = 1;
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("stays_dead") }),
    );
    await consume([message], { registry, attempts: 11 });
    await consume([message], { queue: "webhook-events-dlq" });
    const again = await consume([message], { registry });
    expect(again.acked).toHaveLength(1);
    expect(runs).toHaveLength(1);
    expect(await eventRow(message.id)).toMatchObject({ status: "dead" });
  });

  it("is wired as the worker's queue handler", async () => {
    const message = await messageFor("nova", novaEvent());
    const batch = createMessageBatch("webhook-events", [
      { id: "wired-1", timestamp: new Date(), attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<never>, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["wired-1"]);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
  });
});

describe("state rules through the queue handler", () => {
  it("Nuvouch: approved ×3 (duplicates and distinct callbacks) runs the effect once; a late denied changes nothing", async () => {
    const { registry, runs } = countingRegistry();
    const externalRequestId = uniqueId("pay");
    const approved = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId }),
    );
    const approvedAgain = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId }),
    );
    await consume([approved], { registry });
    await consume([approved, approvedAgain], { registry });
    await consume([approved], { registry, attempts: 2 });
    expect(runs).toEqual([
      { effectId: `approval:${externalRequestId}:on-approved`, name: "on-approved", externalRequestId },
    ]);

    const denied = await messageFor("nuvouch", nuvouchApprovalEvent("nuvouch.approval.denied", { externalRequestId }));
    await consume([denied], { registry });
    expect(runs).toHaveLength(1);
    expect(await approvalRow(externalRequestId)).toMatchObject({ status: "approved", decided_by_event: approved.id });
    expect(await eventRow(denied.id)).toMatchObject({ status: "processed" });
    expect(await effectRows({ prefix: `approval:${externalRequestId}:` })).toEqual([
      expect.objectContaining({ name: "on-approved", status: "done", attempts: 1, event_id: approved.id }),
    ]);
  });

  it("Nuvouch: a callback for an approval this gateway did not create still creates its record", async () => {
    const externalRequestId = uniqueId("elsewhere");
    await consume([
      await messageFor("nuvouch", nuvouchApprovalEvent("nuvouch.approval.expired", { externalRequestId })),
    ]);
    expect(await approvalRow(externalRequestId)).toMatchObject({ status: "expired", subject_id: "cus_123" });
  });

  it("Nuvouch: connections follow pending → accepted → revoked whatever the delivery order", async () => {
    const session = uniqueId("cs");
    const accepted = await messageFor(
      "nuvouch",
      nuvouchConnectionEvent("nuvouch.connection.accepted", { connectionSessionId: session }),
    );
    const revoked = await messageFor(
      "nuvouch",
      nuvouchConnectionEvent("nuvouch.connection.revoked", { connectionSessionId: session }),
    );
    await consume([revoked]);
    await consume([accepted]);
    const row = await env.DB.prepare("SELECT status FROM nuvouch_connections WHERE connection_session_id = ?")
      .bind(session)
      .first("status");
    expect(row).toBe("revoked");
  });

  it("Nuvei: a late pending never overwrites approved, and the lookup shows the final state", async () => {
    const transactionId = `71100${Date.now()}`;
    const base = { transactionId, merchantTransactionId: `order_${transactionId}` };
    const approved = await messageFor(
      "nuvei",
      nuveiWebhook("approved", { ...base, timeStamp: "2026-11-23T10:00:02Z" }),
    );
    const pending = await messageFor("nuvei", nuveiWebhook("pending", { ...base, timeStamp: "2026-11-23T10:00:01Z" }));
    const latePending = await messageFor(
      "nuvei",
      nuveiWebhook("pending", { ...base, timeStamp: "2026-11-23T10:09:00Z" }),
    );
    await consume([approved]);
    await consume([pending, latePending]);
    const response = await worker.fetch(
      new Request(`https://gateway.test/api/nuvei/transactions/${transactionId}`, {
        headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
      }),
      env,
      createExecutionContext(),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      transactionId,
      merchantTransactionId: `order_${transactionId}`,
      status: "approved",
      amount: "10.5",
      currency: "USD",
      transactionType: "Auth",
      updatedAt: expect.any(String),
    });
  });

  it("Nuvei: keeps a 64-bit transactionId exactly, though JSON.parse would round it", async () => {
    const big = '{"transactionId":9007199254740993123,"result":{"status":"approved"},"currency":"EUR"}';
    await consume([await messageFor("nuvei", big)]);
    const row = await env.DB.prepare("SELECT transaction_id FROM nuvei_transactions WHERE transaction_id = ?")
      .bind("9007199254740993123")
      .first("transaction_id");
    expect(row).toBe("9007199254740993123");
  });
});

describe("faults", () => {
  it("D1 failing mid-batch applies nothing, retries the message, and the retry applies everything", async () => {
    const externalRequestId = uniqueId("midbatch");
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId }),
    );
    const { registry, runs } = countingRegistry();
    // A statement that fails inside the real transaction, after the conflict note and the state write.
    const failingDb = d1With(
      env.DB,
      "batch",
      (real) => (statements: D1PreparedStatement[]) =>
        real.batch([
          ...statements.slice(0, 2),
          real.prepare("INSERT INTO no_such_table VALUES (1)"),
          ...statements.slice(1),
        ]),
    );
    const failed = await consume([message], { env: { ...env, DB: failingDb } as Env, registry });
    expect(failed.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(await approvalRow(externalRequestId)).toBeNull();
    expect(await eventRow(message.id)).toBeNull();
    expect(runs).toHaveLength(0);

    const retried = await consume([message], { registry, attempts: 2 });
    expect(retried.acked).toHaveLength(1);
    expect(await approvalRow(externalRequestId)).toMatchObject({ status: "approved" });
    expect(runs).toHaveLength(1);
  });

  it("a throwing effect is retried with backoff, then done once; redelivery never re-runs it", async () => {
    const { registry, runs, behaviour } = countingRegistry();
    behaviour.failures = 1;
    const externalRequestId = uniqueId("flaky");
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId }),
    );
    const first = await consume([message], { registry });
    expect(first.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(await eventRow(message.id)).toMatchObject({
      status: "retrying",
      last_error: expect.stringContaining("downstream unavailable"),
    });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "failed", attempts: 1 }),
    ]);

    const second = await consume([message], { registry, attempts: 3 });
    expect(second.acked).toHaveLength(1);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", last_error: null, attempts: 2 });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "done", attempts: 2 }),
    ]);

    await consume([message], { registry, attempts: 4 });
    expect(runs).toHaveLength(2);
  });

  it("an effect whose done mark fails is not re-run by the next delivery, only after its lease", async () => {
    const { registry, runs } = countingRegistry();
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("done_write") }),
    );
    // D1 refuses exactly the write that records the effect as done.
    const flakyDb = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.startsWith("UPDATE effects SET status = ?2")) return statement;
            return {
              bind: (...values: unknown[]) =>
                values[1] === "done"
                  ? { run: async () => Promise.reject(new Error("D1 write failed")) }
                  : statement.bind(...values),
            };
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const first = await consume([message], { env: { ...env, DB: flakyDb } as Env, registry });
    expect(first.outcomeOf(0)).toMatchObject({ retried: true });
    expect(runs).toHaveLength(1);
    expect(await effectRows({ eventId: message.id })).toEqual([expect.objectContaining({ status: "running" })]);

    await consume([message], { registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(runs).toHaveLength(1);
    await consume([message], { registry, attempts: 3, nowMs: NOW_MS + 3 * 60_000 });
    expect(runs).toHaveLength(2);
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "done", attempts: 2 }),
    ]);
  });

  it("an effect that outlived its timeout keeps its lease: no second run while the first may still be going", async () => {
    const { registry, runs } = hangingRegistry();
    const message = await messageFor("nova", novaEvent({ type: "dma.session.started" }));
    const slowEnv = { ...env, EFFECT_TIMEOUT_MS: "50" } as Env;
    const first = await consume([message], { env: slowEnv, registry });
    expect(first.outcomeOf(0)).toMatchObject({ retried: true });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({
        status: "failed",
        last_error: expect.stringContaining("timed out"),
        lease_until: expect.any(Number),
      }),
    ]);
    await consume([message], { env: slowEnv, registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(runs.started).toBe(1);
    await consume([message], { env: slowEnv, registry, attempts: 3, nowMs: NOW_MS + 3 * 60_000 });
    expect(runs.started).toBe(2);
  });

  it("backs off exponentially with the message's attempts", async () => {
    const { registry, behaviour } = countingRegistry();
    behaviour.failures = 10;
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("backoff") }),
    );
    const delays = [];
    for (const attempts of [1, 2, 3, 4])
      delays.push((await consume([message], { registry, attempts })).outcomeOf(0).delaySeconds);
    expect(delays).toEqual([10, 20, 40, 80]);
  });

  it("the same message delivered twice at once runs its effect once", async () => {
    const { registry, runs } = countingRegistry();
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("twice") }),
    );
    const results = await Promise.all([consume([message], { registry }), consume([message], { registry })]);
    expect(runs).toHaveLength(1);
    // Whichever lost the race either saw the event done or waits for the winner's lease.
    for (const result of results) expect(result.acked.length + result.retried.size).toBe(1);
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "done", attempts: 1 }),
    ]);
    // The loser's "running elsewhere" never turns the winner's processed event back.
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
  });

  it("exhausted retries reach the DLQ consumer, which marks the event and its effect dead; replay revives them", async () => {
    const { registry, runs, behaviour } = countingRegistry();
    behaviour.failures = 1;
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("dead") }),
    );
    await consume([message], { registry, attempts: 6 });
    const dlq = await consume([message], { queue: "webhook-events-dlq" });
    expect(dlq.acked).toHaveLength(1);
    expect(await eventRow(message.id)).toMatchObject({
      status: "dead",
      last_error: expect.stringContaining("downstream unavailable"),
    });
    expect(await effectRows({ eventId: message.id })).toEqual([expect.objectContaining({ status: "dead" })]);

    const replay = await consume([{ ...message, replay: true }], { registry });
    expect(replay.acked).toHaveLength(1);
    expect(runs).toHaveLength(2);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "done", attempts: 2 }),
    ]);

    await consume([{ ...message, replay: true }], { registry });
    expect(runs).toHaveLength(2);
  });

  it("the DLQ consumer records an event that never got recorded", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message], { queue: "webhook-events-dlq" });
    expect(await eventRow(message.id)).toMatchObject({
      status: "dead",
      payload: message.payload,
      last_error: expect.any(String),
    });
  });

  it("a failing DLQ consumer retries its message rather than losing it", async () => {
    const message = await messageFor("nova", novaEvent());
    // Every real method but batch (test/support/faults.ts: a spread would lose `prepare`).
    const brokenDb = d1Failing(env.DB, "batch", "D1 unavailable");
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    const result = await consume([message], { queue: "webhook-events-dlq", env: { ...env, DB: brokenDb } as Env });
    expect(result.outcomeOf(0)).toMatchObject({ retried: true });
    expect(await eventRow(message.id)).toBeNull();
    // The named fault, not another error on the way to it.
    expect(errors.map((line) => JSON.parse(line).error)).toEqual(["Error: D1 unavailable"]);
  });
});

describe("forwarding (docs/contract.md §6)", () => {
  const forwardEnv = (mode: string, extra: Record<string, string> = {}) =>
    ({ ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}/${mode}`, FORWARD_TIMEOUT_MS: "300", ...extra }) as Env;

  async function received(id: string) {
    const all = (await (await fetch(`${env.FORWARD_SINK_URL}/_received`)).json()) as {
      path: string;
      headers: Record<string, string>;
      body: string;
    }[];
    return all.filter((r) => r.headers["webhook-id"] === id);
  }

  it("POSTs the normalized event signed per Standard Webhooks", async () => {
    const payload = novaEvent({ data: { paymentId: "pay_fwd" } });
    const message = await messageFor("nova", payload);
    const result = await consume([message], { env: forwardEnv("ok") });
    expect(result.acked).toHaveLength(1);
    const [request] = await received(message.id);
    expect(request).toBeDefined();
    const verified = new Webhook(TEST_SECRETS.FORWARD_SIGNING_SECRET).verify(
      request?.body ?? "",
      request?.headers ?? {},
    );
    expect(verified).toEqual({
      id: message.id,
      provider: "nova",
      type: payload.type,
      occurredAt: payload.occurredAt,
      receivedAt: message.receivedAt,
      data: { paymentId: "pay_fwd" },
    });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ name: "forward", status: "done" }),
    ]);
  });

  it("retries a 500 with backoff, with the same webhook-id on every attempt", async () => {
    const message = await messageFor("nova", novaEvent());
    const first = await consume([message], { env: forwardEnv("fail") });
    expect(first.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    await consume([message], { env: forwardEnv("ok"), attempts: 2 });
    const attempts = await received(message.id);
    expect(attempts.map((a) => a.path)).toEqual(["/fail", "/ok"]);
    expect(new Set(attempts.map((a) => a.headers["webhook-id"]))).toEqual(new Set([message.id]));
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
  });

  it("honours Retry-After on a 429", async () => {
    const message = await messageFor("nova", novaEvent());
    // Backoff alone would say 10 s for a first attempt; the target asked for 120 s.
    const result = await consume([message], { env: forwardEnv("throttle?after=120") });
    expect(result.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 120 });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "failed", last_error: expect.stringContaining("429") }),
    ]);
  });

  it("gives up on a target that hangs after the per-attempt timeout, and retries", async () => {
    const message = await messageFor("nova", novaEvent());
    const result = await consume([message], { env: forwardEnv("hang") });
    expect(result.outcomeOf(0)).toMatchObject({ retried: true });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({
        name: "forward",
        status: "failed",
        last_error: expect.stringMatching(/timed out|abort/i),
      }),
    ]);
  });

  it("does not forward while FORWARD_URL is unset", async () => {
    const message = await messageFor("nova", novaEvent());
    await consume([message]);
    expect(await effectRows({ eventId: message.id })).toEqual([]);
    expect(await received(message.id)).toEqual([]);
  });
});
