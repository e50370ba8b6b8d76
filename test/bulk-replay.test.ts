import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_PAGE_BYTES } from "../src/admin/bulk-replay";
import { replayMessage } from "../src/admin/replay";
import { EffectRegistry } from "../src/effects/registry";
import type { EventRow } from "../src/events/store";
import { providers } from "../src/providers/registry";
import { gatewayEventId } from "../src/queue/enqueue";
import type { EventMessage } from "../src/queue/message";
import { consume, countingRegistry, effectRows, eventRow, messageFor } from "./support/consumer";
import { callGateway, recordingEnv } from "./support/gateway";
import { novaEvent, nuveiWebhook, nuvouchApprovalEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { sha256HexNode } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };
const bulkReplay = (body: unknown, testEnv: Env = env, headers: Record<string, string> = {}) =>
  callGateway(
    new Request("https://gateway.test/api/events/replay", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    { env: testEnv },
  );

interface AuditAction {
  at: string;
  action: string;
  target: string;
  count: number;
  filters?: Record<string, unknown>;
  stillQuarantined?: number;
  actor: { ip: string | null; userAgent: string | null; operator?: string } | null;
}
async function auditList(query = ""): Promise<AuditAction[]> {
  const response = await callGateway(new Request(`https://gateway.test/api/audit${query}`, { headers: auth }));
  expect(response.status).toBe(200);
  return ((await response.json()) as { actions: AuditAction[] }).actions;
}

/** A dead event as the DLQ consumer leaves it, received at `receivedAt`. */
async function seedDead(provider: "nova" | "nuvei", payload: object, receivedAt: string): Promise<EventMessage> {
  const message = await messageFor(provider, payload, { receivedAt });
  await env.DB.prepare(
    `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                         received_at, occurred_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'dead', 10, 'retries exhausted', ?, ?, ?)`,
  )
    .bind(
      message.id,
      provider,
      message.dedupeKey,
      message.type,
      message.payload,
      receivedAt,
      message.occurredAt,
      receivedAt,
    )
    .run();
  return message;
}

/** A queue whose sendBatch calls are recorded, and which refuses from the `failFrom`-th call. */
function batchingQueue(failFrom = Number.POSITIVE_INFINITY) {
  const batches: unknown[][] = [];
  const sent: unknown[] = [];
  const queue = {
    send: async (message: unknown) => {
      sent.push(message);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      if (batches.length + 1 >= failFrom) throw new Error("queue unavailable (injected)");
      const bodies = [...messages].map((m) => m.body);
      batches.push(bodies);
      sent.push(...bodies);
    },
  } as unknown as Queue;
  return { env: { ...env, EVENTS_QUEUE: queue } as Env, batches, sent };
}

/** A quarantined row as ingest leaves it: the exact bytes, and the JSON text when the body is JSON. */
async function seedQuarantined(
  provider: string,
  dedupeKey: string,
  body: Uint8Array,
  receivedAt: string,
  options: { json?: boolean; type?: string; lastError?: string } = {},
): Promise<string> {
  const id = await gatewayEventId(provider, dedupeKey);
  await env.DB.prepare(
    `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error, received_at,
                         updated_at, body_sha256, raw_body, content_type)
     VALUES (?1, ?2, ?3, ?4, ?5, 'quarantined', 0, ?6, ?7, ?7, ?8, ?9, 'application/json')`,
  )
    .bind(
      id,
      provider,
      dedupeKey,
      options.type ?? "unknown",
      options.json ? new TextDecoder().decode(body) : "null",
      options.lastError ?? "quarantined by the test",
      receivedAt,
      sha256HexNode(body),
      body,
    )
    .run();
  return id;
}

/** Bytes of payload and raw body in one result row: what a page of replay rows holds in memory. */
function storedBytes(row: Record<string, unknown>): number {
  return ["payload", "raw_body"].reduce((sum, column) => {
    const value = row[column];
    if (typeof value === "string") return sum + new TextEncoder().encode(value).byteLength;
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return sum + value.byteLength;
    if (Array.isArray(value)) return sum + value.length;
    return sum;
  }, 0);
}

/** The real D1, passing everything on, noting the payload and raw-body bytes each query loaded. */
function loadRecordingD1(db: D1Database, loads: number[]): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      run: () => statement.run(),
      first: (column?: string) => (column === undefined ? statement.first() : statement.first(column)),
      raw: (options?: { columnNames?: boolean }) => statement.raw(options as { columnNames: true }),
      all: async () => {
        const result = await statement.all<Record<string, unknown>>();
        const bytes = result.results.reduce((sum, row) => sum + storedBytes(row), 0);
        if (bytes > 0) loads.push(bytes);
        return result;
      },
    } as unknown as D1PreparedStatement;
    real.set(proxy, statement);
    return proxy;
  };
  const recording = {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: (statements: D1PreparedStatement[]) => db.batch(statements.map((s) => real.get(s) ?? s)),
    exec: (sql: string) => db.exec(sql),
    withSession: () => recording,
    dump: () => db.dump(),
  } as unknown as D1Database;
  return recording;
}

describe("POST /api/events/replay", () => {
  it("replays dead events and their dead effects, each effect still at most once", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const runs = { ledger: 0, pager: 0 };
    let pagerUp = false;
    const registry = new EffectRegistry()
      .on("nova:payment.failed", "ledger", () => {
        runs.ledger++;
      })
      .on("nova:payment.failed", "pager", () => {
        runs.pager++;
        if (!pagerUp) throw new Error("pager unavailable");
      });
    // Two events whose `ledger` effect is done and whose `pager` effect died with them.
    const messages = [
      await messageFor("nova", novaEvent({ type: "payment.failed" }), { receivedAt: "2026-01-05T10:00:00.000Z" }),
      await messageFor("nova", novaEvent({ type: "payment.failed" }), { receivedAt: "2026-01-05T10:00:01.000Z" }),
    ];
    for (const message of messages) {
      await consume([message], { registry, attempts: 10 });
      await consume([message], { queue: "webhook-events-dlq" });
      expect(await eventRow(message.id)).toMatchObject({ status: "dead" });
    }
    expect(runs).toEqual({ ledger: 2, pager: 2 });

    pagerUp = true;
    const { env: testEnv, sent } = recordingEnv();
    const response = await bulkReplay(
      { status: "dead", since: "2026-01-05T10:00:00Z", until: "2026-01-05T10:01:00Z" },
      testEnv,
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replayed: 2 });
    expect(sent).toEqual(messages.map((m) => expect.objectContaining({ id: m.id, replay: true })));

    // The replay and a redelivery of it: done effects stay done, the dead one runs once more.
    await consume(sent, { registry });
    await consume(sent, { registry });
    expect(runs).toEqual({ ledger: 2, pager: 4 });
    for (const message of messages) {
      expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
      expect((await effectRows({ eventId: message.id })).map((e) => e.status)).toEqual(["done", "done"]);
    }

    // Nothing is dead any more: a second bulk replay finds nothing.
    const again = await bulkReplay({ status: "dead", since: "2026-01-05T10:00:00Z", until: "2026-01-05T10:01:00Z" });
    expect(await again.json()).toEqual({ replayed: 0 });
  });

  it("selects by provider and time range, oldest first, up to the limit", async () => {
    const day = "2026-02-07";
    const novaOld = await seedDead("nova", novaEvent(), `${day}T08:00:00.000Z`);
    const novaMid = await seedDead("nova", novaEvent(), `${day}T09:00:00.000Z`);
    const nuvei = await seedDead(
      "nuvei",
      nuveiWebhook("declined", { transactionId: "tx_bulk_1" }),
      `${day}T09:30:00.000Z`,
    );
    const novaLate = await seedDead("nova", novaEvent(), `${day}T10:00:00.000Z`);
    await seedDead("nova", novaEvent(), `${day}T11:00:00.000Z`);

    const ids = async (body: object) => {
      const { env: testEnv, sent } = recordingEnv();
      const response = await bulkReplay(body, testEnv);
      expect(response.status).toBe(202);
      const { replayed } = (await response.json()) as { replayed: number };
      expect(replayed).toBe(sent.length);
      return sent.map((m) => (m as EventMessage).id);
    };
    const window = { since: `${day}T08:00:00.000Z`, until: `${day}T11:00:00.000Z` };
    expect(await ids({ status: "dead", ...window })).toEqual([novaOld.id, novaMid.id, nuvei.id, novaLate.id]);
    expect(await ids({ status: "dead", provider: "nuvei", ...window })).toEqual([nuvei.id]);
    expect(await ids({ status: "dead", provider: "nova", ...window, limit: 2 })).toEqual([novaOld.id, novaMid.id]);
    // `since` is inclusive, `until` exclusive; offsets are normalised to UTC.
    expect(await ids({ status: "dead", since: `${day}T10:00:00+01:00`, until: `${day}T10:00:00.000Z` })).toEqual([
      novaMid.id,
      nuvei.id,
    ]);
    expect(await ids({ status: "quarantined", ...window })).toEqual([]);
  });

  it("sends in batches of at most 100 messages, 100 events by default, and parks a large payload as ingest does", async () => {
    const day = "2026-03-09";
    for (let i = 0; i < 250; i++) {
      await seedDead(
        "nova",
        novaEvent(),
        `${day}T10:${String(Math.floor(i / 60)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}.000Z`,
      );
    }
    const large = await seedDead("nova", novaEvent({ data: { blob: "x".repeat(200_000) } }), `${day}T11:00:00.000Z`);
    const window = { since: `${day}T00:00:00Z`, until: `${day}T23:59:59Z` };

    const byDefault = batchingQueue();
    const first = await bulkReplay({ status: "dead", ...window }, byDefault.env);
    expect(await first.json()).toEqual({ replayed: 100 });
    expect(byDefault.batches.map((b) => b.length)).toEqual([100]);

    const all = batchingQueue();
    const response = await bulkReplay({ status: "dead", ...window, limit: 1000 }, all.env);
    expect(await response.json()).toEqual({ replayed: 251 });
    expect(all.batches.map((b) => b.length)).toEqual([100, 100, 50]);
    // The large payload went alone through send(), parked in D1 like an oversized delivery.
    const parked = all.sent.find((m) => (m as EventMessage).id === large.id);
    expect(parked).toEqual(
      expect.objectContaining({ payloadRef: expect.stringMatching(new RegExp(`^${large.id}:`)), replay: true }),
    );
    expect(parked).not.toHaveProperty("payload");
    expect(all.batches.flat()).not.toContainEqual(expect.objectContaining({ id: large.id }));
  });

  it("stops with 503 when the queue refuses part way, and audits how far it got", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const day = "2026-04-11";
    for (let i = 0; i < 150; i++)
      await seedDead(
        "nova",
        novaEvent(),
        `${day}T10:00:${String(i % 60).padStart(2, "0")}.${String(i).padStart(3, "0")}Z`,
      );
    const failing = batchingQueue(2);
    const response = await bulkReplay(
      { status: "dead", since: `${day}T00:00:00Z`, until: `${day}T23:00:00Z`, limit: 150 },
      failing.env,
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: "enqueue_failed", message: "100 events were queued before the queue refused", replayed: 100 },
    });
    const [latest] = await auditList("?limit=1");
    expect(latest).toMatchObject({ action: "bulk_replay", count: 100 });
  });

  it("keeps each sendBatch under the queue's 256 KB, and counts a batch refused inside a page", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const day = "2026-04-12";
    for (let i = 0; i < 5; i++) {
      await seedDead("nova", novaEvent({ data: { blob: "y".repeat(100_000) } }), `${day}T10:00:0${i}.000Z`);
    }
    const window = { since: `${day}T00:00:00Z`, until: `${day}T23:00:00Z` };
    const queue = batchingQueue();
    expect(await (await bulkReplay({ status: "dead", ...window }, queue.env)).json()).toEqual({ replayed: 5 });
    expect(queue.batches.map((b) => b.length)).toEqual([2, 2, 1]);

    const failing = batchingQueue(3);
    const response = await bulkReplay({ status: "dead", ...window }, failing.env);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "enqueue_failed", replayed: 4 } });
  });

  // Seeds several ~1 MB bodies into the real local D1: longer than Vitest's 5 s default on a busy runner.
  it("loads a page of large quarantined bodies within MAX_PAGE_BYTES, each body once", {
    timeout: 60_000,
  }, async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const day = "2026-04-13";
    const near = 1_040_000; // under MAX_BODY_BYTES (1 MiB), as ingest would have kept it
    const bodies: Uint8Array[] = [];
    // Not JSON: the row's payload is "null", and all its weight is the raw bytes.
    for (let i = 0; i < 6; i++) {
      const body = new Uint8Array(near).fill(0x80 + i); // not UTF-8: still quarantined after the replay
      bodies.push(body);
      await seedQuarantined("nova", sha256HexNode(body), body, `${day}T10:00:0${i}.000Z`);
    }
    // JSON that fails the schema: its text is kept as payload beside the same bytes.
    for (let i = 0; i < 2; i++) {
      const body = new TextEncoder().encode(
        JSON.stringify({ eventId: `evt_big_${day}_${i}`, type: "has space", data: { blob: "z".repeat(900_000) } }),
      );
      bodies.push(body);
      await seedQuarantined("nova", `evt_big_${day}_${i}`, body, `${day}T10:00:1${i}.000Z`, { json: true });
    }
    const loads: number[] = [];
    const { env: recording } = recordingEnv();
    const response = await bulkReplay(
      { status: "quarantined", since: `${day}T00:00:00Z`, until: `${day}T23:00:00Z` },
      { ...recording, DB: loadRecordingD1(env.DB, loads) },
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ replayed: 0 });
    expect(loads.length).toBeGreaterThan(1);
    expect(Math.max(...loads)).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    // A replay reads a quarantined event's bytes, never its JSON text beside them.
    expect(loads.reduce((a, b) => a + b, 0)).toBe(bodies.reduce((sum, body) => sum + body.byteLength, 0));
  });

  it("re-reads quarantined events: one that now parses flows on with its effect once, one still invalid stays, counted", async () => {
    const day = "2026-04-14";
    const window = { since: `${day}T00:00:00Z`, until: `${day}T23:00:00Z` };
    // Quarantined by an earlier deploy under an old schema, readable by this code.
    const externalRequestId = `bulk_fixed_${Date.now()}`;
    const payload = nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId });
    const fixedBody = new TextEncoder().encode(JSON.stringify(payload));
    const fixed = await seedQuarantined("nuvouch", payload.id, fixedBody, `${day}T10:00:00.000Z`, {
      json: true,
      type: payload.type,
      lastError: "data: an old schema",
    });
    // Not UTF-8: no code will ever read it.
    const invalidBody = new Uint8Array([0x7b, 0xff, 0x7d]);
    const invalid = await seedQuarantined("nova", sha256HexNode(invalidBody), invalidBody, `${day}T10:00:01.000Z`, {
      lastError: "an older reason",
    });

    const { env: testEnv, sent } = recordingEnv();
    const response = await bulkReplay({ status: "quarantined", ...window }, testEnv);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replayed: 1, stillQuarantined: 1 });
    expect(sent).toEqual([expect.objectContaining({ id: fixed, replay: true, payload: JSON.stringify(payload) })]);

    const { registry, runs } = countingRegistry();
    await consume(sent, { registry });
    await consume(sent, { registry });
    expect(runs.filter((r) => r.externalRequestId === externalRequestId)).toHaveLength(1);
    expect(await eventRow(fixed)).toMatchObject({ status: "processed", last_error: null, raw_body: null });
    expect(await eventRow(invalid)).toMatchObject({ status: "quarantined", last_error: "body is not valid UTF-8" });

    const [latest] = await auditList("?limit=1");
    expect(latest).toMatchObject({
      action: "bulk_replay",
      count: 1,
      stillQuarantined: 1,
      filters: { status: "quarantined", since: `${day}T00:00:00.000Z`, until: `${day}T23:00:00.000Z` },
    });
  });

  it("repeated bulk replays of quarantined events move on past those that stayed quarantined", async () => {
    const day = "2026-04-15";
    const window = { since: `${day}T00:00:00Z`, until: `${day}T23:00:00Z` };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = new Uint8Array([0x7b, 0xff, 0x30 + i, 0x7d]);
      ids.push(await seedQuarantined("nova", sha256HexNode(body), body, `${day}T10:00:0${i}.000Z`));
    }
    const picked: string[] = [];
    for (let run = 0; run < 3; run++) {
      const before = await Promise.all(ids.map(async (id) => (await eventRow(id))?.updated_at));
      const response = await bulkReplay({ status: "quarantined", ...window, limit: 1 });
      expect(await response.json()).toEqual({ replayed: 0, stillQuarantined: 1 });
      const after = await Promise.all(ids.map(async (id) => (await eventRow(id))?.updated_at));
      picked.push(...ids.filter((_id, i) => after[i] !== before[i]));
    }
    // Each run took the one least recently re-read: all three, not the oldest three times.
    expect(picked).toEqual(ids);
  });

  it.each([
    ["no status", {}],
    ["a status that is not replayable", { status: "processed" }],
    ["an unknown provider", { status: "dead", provider: "stripe" }],
    ["an unknown field", { status: "dead", force: true }],
    ["a limit over 1000", { status: "dead", limit: 1001 }],
    ["a limit of 0", { status: "dead", limit: 0 }],
    ["a limit as text", { status: "dead", limit: "10" }],
    ["since not a date", { status: "dead", since: "yesterday" }],
    ["since after until", { status: "dead", since: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z" }],
  ])("400 for %s, and nothing is queued or audited", async (_name, body) => {
    const before = (await auditList("?limit=200")).length;
    const { env: testEnv, sent } = recordingEnv();
    const response = await bulkReplay(body, testEnv);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(sent).toEqual([]);
    expect(await auditList("?limit=200")).toHaveLength(before);
  });

  it("400 in the one error shape for a body that is not JSON", async () => {
    const response = await bulkReplay('{"status":"dead"');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: "invalid_json", message: expect.any(String) } });
  });

  it("401 without the token", async () => {
    const response = await callGateway(
      new Request("https://gateway.test/api/events/replay", { method: "POST", body: '{"status":"dead"}' }),
    );
    expect(response.status).toBe(401);
  });
});

describe("GET /api/audit", () => {
  it("lists single and bulk replays newest first, with counts, the bulk filters and who asked", async () => {
    const single = await seedDead("nova", novaEvent(), "2026-05-01T10:00:00.000Z");
    const { env: testEnv } = recordingEnv();
    const one = await callGateway(
      new Request(`https://gateway.test/api/events/${single.id}/replay`, {
        method: "POST",
        headers: { ...auth, "cf-connecting-ip": "2001:db8::7", "user-agent": "curl/8.5.0" },
      }),
      { env: testEnv },
    );
    expect(one.status).toBe(202);
    const bulk = await bulkReplay(
      { status: "dead", provider: "nuvei", since: "2026-05-01T00:00:00Z", until: "2026-05-02T00:00:00Z" },
      testEnv,
      { "cf-connecting-ip": "203.0.113.9", "user-agent": "ops-dashboard/1.0", "x-operator": "jane.doe" },
    );
    expect(await bulk.json()).toEqual({ replayed: 0 });

    const [latest, previous] = await auditList();
    expect(latest).toEqual({
      at: expect.any(String),
      action: "bulk_replay",
      target: "dead events of nuvei received from 2026-05-01T00:00:00.000Z until 2026-05-02T00:00:00.000Z (oldest 100)",
      count: 0,
      filters: {
        status: "dead",
        provider: "nuvei",
        since: "2026-05-01T00:00:00.000Z",
        until: "2026-05-02T00:00:00.000Z",
        limit: 100,
      },
      actor: { ip: "203.0.113.9", userAgent: "ops-dashboard/1.0", operator: "jane.doe" },
    });
    expect(previous).toEqual({
      at: expect.any(String),
      action: "replay",
      target: single.id,
      count: 1,
      actor: { ip: "2001:db8::7", userAgent: "curl/8.5.0" },
    });
    expect(await auditList("?limit=1")).toEqual([latest]);
  });

  it("records the actor bounded: a long User-Agent cut to 200, X-Operator to 64 visible ASCII, none when absent", async () => {
    const { env: testEnv } = recordingEnv();
    const range = { status: "dead", since: "2026-05-03T00:00:00Z", until: "2026-05-04T00:00:00Z" };
    const longAgent = `Mozilla/5.0 ${"x".repeat(400)}`;
    expect(
      (await bulkReplay(range, testEnv, { "user-agent": longAgent, "x-operator": `  ops\u007f\t${"o".repeat(100)}` }))
        .status,
    ).toBe(202);
    const [bounded] = await auditList("?limit=1");
    expect(bounded?.actor).toEqual({
      ip: null,
      userAgent: longAgent.slice(0, 200),
      operator: `ops??${"o".repeat(59)}`,
    });

    await callGateway(
      new Request("https://gateway.test/api/events/replay", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "x-operator": "   " },
        body: JSON.stringify(range),
      }),
      { env: testEnv },
    );
    const [anonymous] = await auditList("?limit=1");
    expect(anonymous?.actor).toEqual({ ip: null, userAgent: null });
  });

  it("a single replay the queue refused is not audited", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const event = await seedDead("nova", novaEvent(), "2026-05-02T10:00:00.000Z");
    const before = await auditList("?limit=200");
    const response = await callGateway(
      new Request(`https://gateway.test/api/events/${event.id}/replay`, { method: "POST", headers: auth }),
      { env: batchingQueue(1).env },
    );
    expect(response.status).toBe(503);
    expect(await auditList("?limit=200")).toEqual(before);
  });

  it("400 for a limit outside 1..200", async () => {
    for (const limit of ["0", "201", "ten"]) {
      const response = await callGateway(
        new Request(`https://gateway.test/api/audit?limit=${limit}`, { headers: auth }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_query" } });
    }
  });
});

describe("replayMessage, the seam single and bulk replays share", () => {
  const row = (status: string): EventRow =>
    ({
      id: "gw_seam",
      provider: "nova",
      dedupe_key: "evt_seam",
      type: "payment.succeeded",
      payload: "{}",
      status,
      attempts: 1,
      last_error: null,
      received_at: "2026-01-01T00:00:00.000Z",
      occurred_at: null,
      updated_at: "2026-01-01T00:00:00.000Z",
    }) as EventRow;

  it("builds the replay message of a stored event", async () => {
    expect(await replayMessage(env.DB, providers, row("dead"), 0)).toEqual({
      ok: true,
      value: {
        v: 1,
        id: "gw_seam",
        provider: "nova",
        dedupeKey: "evt_seam",
        type: "payment.succeeded",
        occurredAt: null,
        receivedAt: "2026-01-01T00:00:00.000Z",
        payload: "{}",
        replay: true,
      },
    });
  });

  it("re-reads a quarantined event's bytes and refuses it while they still do not parse", async () => {
    const quarantined = { ...row("quarantined"), raw_body: new TextEncoder().encode("not json").buffer };
    expect(await replayMessage(env.DB, providers, quarantined as EventRow, 0)).toEqual({
      ok: false,
      code: "payload_invalid",
      message: "body is not valid JSON",
    });
  });
});
