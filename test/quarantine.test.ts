// Quarantine (docs/contract.md §3): a verified delivery that does not parse is acknowledged 202, kept
// with its exact bytes and its reasons, never applied, and re-read by a replay.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { blobBytes } from "../src/admin/replay";
import { dedupeKvKey } from "../src/ingest/dedupe";
import { gatewayEventId } from "../src/queue/enqueue";
import { consume, countingRegistry, eventRow } from "./support/consumer";
import { d1Failing } from "./support/faults";
import { callGateway, deliver, NOW_MS, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { novaEvent, nuveiWebhook, nuvouchApprovalEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { sha256HexNode, signedHeaders } from "./support/sign";

const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };
const api = (path: string, init: RequestInit = {}, testEnv: Env = env) =>
  callGateway(new Request(`https://gateway.test/api${path}`, { ...init, headers: { ...auth, ...init.headers } }), {
    env: testEnv,
  });

const bytes = (text: string) => new TextEncoder().encode(text);

/** Delivers signed bytes and returns the answer, what was queued, and the stored row. */
async function deliverBytes(provider: "nova" | "nuvei" | "nuvouch", body: Uint8Array, contentType?: string) {
  const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: "kv" } as Partial<Env>);
  const headers = { ...signedHeaders(provider, body, NOW_S), ...(contentType ? { "content-type": contentType } : {}) };
  const response = await callGateway(webhookRequest(provider, body, headers), { env: testEnv });
  const answer = (await response.json()) as { status: string; id: string };
  return { response, answer, sent, row: await eventRow(answer.id) };
}

const json = (value: unknown) => bytes(JSON.stringify(value));
const longType = "t".repeat(120_000);

describe("a verified body that does not parse is quarantined, not refused", () => {
  it.each([
    ["an empty body", bytes(""), null, "empty body"],
    ["a body that is not JSON", bytes("eventId=1"), null, "not valid JSON"],
    ["a JSON array", bytes("[1,2,3]"), null, "not a JSON object"],
    ["a JSON string", bytes('"evt_1"'), null, "not a JSON object"],
    ["no event id", json({ type: "payment.succeeded" }), null, "eventId"],
    ["an event id with a control character", json(novaEvent({ eventId: "evt_\u0001" })), null, "event id"],
    ["an event id with a space", json(novaEvent({ eventId: "evt 1" })), null, "event id"],
    ["an event id over 256 characters", json(novaEvent({ eventId: `evt_${"x".repeat(600)}` })), null, "event id"],
    ["a non-ASCII event id", json(novaEvent({ eventId: "evt_é" })), null, "event id"],
    ["a type of 120 KB", json(novaEvent({ eventId: "evt_long_type", type: longType })), "evt_long_type", "type"],
    ["a type with a space", json(novaEvent({ eventId: "evt_space_type", type: "a b" })), "evt_space_type", "type"],
    ["an empty type", json(novaEvent({ eventId: "evt_empty_type", type: "" })), "evt_empty_type", "type"],
    [
      "JSON nested 10,000 deep",
      bytes(`{"eventId":"evt_deep","data":${"[".repeat(10_000)}${"]".repeat(10_000)}}`),
      null,
      "deeper",
    ],
    ["a 1 MB top-level array", bytes(`[${"1,".repeat(499_999)}1]`), null, "not a JSON object"],
    ["invalid UTF-8", new Uint8Array([...json(novaEvent()).slice(0, -2), 0xff, 0xfe, 0x7d]), null, "UTF-8"],
    ["a byte-order mark", new Uint8Array([0xef, 0xbb, 0xbf, ...json(novaEvent())]), null, "byte-order mark"],
    ["a duplicated eventId", bytes('{"eventId":"evt_a","type":"x","eventId":"evt_b"}'), null, "eventId"],
    ["a duplicated type", bytes('{"eventId":"evt_dup_type","type":"a","type":"b"}'), null, "type"],
    ["an escaped duplicate key", bytes('{"eventId":"evt_esc","type":"a","\\u0074ype":"b"}'), null, "type"],
  ])("Nova: %s", async (_name, body, readableId, reason) => {
    const { response, answer, sent, row } = await deliverBytes("nova", body);
    expect(response.status).toBe(202);
    const dedupeKey = readableId ?? sha256HexNode(body);
    expect(answer).toEqual({ status: "quarantined", id: await gatewayEventId("nova", dedupeKey) });
    expect(sent).toEqual([]);
    expect(row).toMatchObject({ status: "quarantined", dedupe_key: dedupeKey, body_sha256: sha256HexNode(body) });
    expect(Array.from(blobBytes(row?.raw_body))).toEqual(Array.from(body));
    expect(row?.last_error).toContain(reason);
    // Every stored or logged field stays bounded, whatever the body held.
    expect(String(row?.type).length).toBeLessThanOrEqual(256);
  });

  it("Nuvouch: a known type whose data lacks its fields is kept under its id, its effect never run", async () => {
    const payload = { id: "evt_bad_shape", type: "nuvouch.approval.approved", data: { subjectId: "cus_1" } };
    const { answer, sent, row } = await deliverBytes("nuvouch", json(payload));
    expect(answer).toEqual({ status: "quarantined", id: await gatewayEventId("nuvouch", "evt_bad_shape") });
    expect(sent).toEqual([]);
    expect(row).toMatchObject({ type: "nuvouch.approval.approved", last_error: expect.stringContaining("data") });
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM effects WHERE event_id = ?").bind(answer.id).first("n"),
    ).toBe(0);
  });

  it.each([
    ["without result.status", json({ transactionId: "1" }), "application/json"],
    [
      "a form field nested 65 deep",
      bytes(`${Array.from({ length: 65 }, (_, i) => `a${i}`).join(".")}=1`),
      "application/x-www-form-urlencoded",
    ],
    [
      "of XML with a DOCTYPE (XXE)",
      bytes('<?xml version="1.0"?><!DOCTYPE n [<!ENTITY x SYSTEM "file:///etc/passwd">]><n><status>&x;</status></n>'),
      "application/xml",
    ],
    ["of XML that is not well formed", bytes("<notification><result><status>approved</result>"), "text/xml"],
  ])("Nuvei: a body %s is kept under its hash", async (_name, body, contentType) => {
    const { response, answer, row } = await deliverBytes("nuvei", body, contentType);
    expect(response.status).toBe(202);
    expect(answer).toEqual({ status: "quarantined", id: await gatewayEventId("nuvei", sha256HexNode(body)) });
    expect(row).toMatchObject({ status: "quarantined", content_type: contentType });
  });

  it("a retry of the same bytes is a duplicate; another body under the same id is a conflict", async () => {
    const broken = bytes('{"eventId":"evt_q_retry","type":"a b"}');
    const first = await deliverBytes("nova", broken);
    expect(first.answer.status).toBe("quarantined");
    // Marked like any accepted delivery, so the fast path answers its retries.
    expect(await env.DEDUPE_KV.get(dedupeKvKey("nova", "evt_q_retry"))).toBe(first.answer.id);
    const retry = await deliverBytes("nova", broken);
    expect(retry.response.status).toBe(200);
    expect(retry.answer).toEqual({ status: "duplicate", id: first.answer.id });
    const other = await deliverBytes("nova", bytes('{"eventId":"evt_q_retry","type":"a  b"}'));
    expect(other.answer).toEqual({ status: "duplicate", id: first.answer.id, conflict: true });
    expect(await eventRow(first.answer.id)).toMatchObject({ status: "quarantined", conflict_count: 1 });
  });

  it("an unsigned or badly signed body is still refused 401 and kept nowhere", async () => {
    const body = bytes("not json at all");
    const headers = signedHeaders("nova", body, NOW_S, "wrong secret");
    const response = await callGateway(webhookRequest("nova", body, headers));
    expect(response.status).toBe(401);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE body_sha256 = ?")
      .bind(sha256HexNode(body))
      .first("n");
    expect(count).toBe(0);
  });

  it("503 store_failed, and nothing acknowledged, when D1 cannot keep it", async () => {
    const brokenDb = d1Failing(env.DB, "prepare", "D1 unavailable");
    vi.spyOn(console, "error").mockImplementation(() => {});
    const body = bytes("{}");
    const response = await callGateway(webhookRequest("nova", body, signedHeaders("nova", body, NOW_S)), {
      env: { ...env, DB: brokenDb } as Env,
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "store_failed" } });
    vi.restoreAllMocks();
  });
});

describe("what a quarantined row keeps", () => {
  it.each([
    ["a body that is not JSON", bytes("eventId=1")],
    ["a type with a space", json(novaEvent({ type: "a b" }))],
    ["a type of 120 KB", json(novaEvent({ type: longType }))],
  ])("the type `unknown` for %s", async (_name, body) => {
    const { row } = await deliverBytes("nova", body);
    expect(row).toMatchObject({ status: "quarantined", type: "unknown" });
  });

  it("its media type: none when none was sent, and cut at 200 characters", async () => {
    const body = bytes('{"eventId":"evt_q_no_media_type","type":"a b"}');
    const headers = signedHeaders("nova", body, NOW_S) as Record<string, string>;
    delete headers["content-type"];
    const response = await callGateway(webhookRequest("nova", body, headers));
    const { id } = (await response.json()) as { id: string };
    expect(await eventRow(id)).toMatchObject({ status: "quarantined", content_type: null });

    const long = `application/json; note=${"m".repeat(300)}`;
    const { row } = await deliverBytes("nova", bytes('{"eventId":"evt_q_long_media_type","type":"a b"}'), long);
    expect(row?.content_type).toBe(long.slice(0, 200));
  });

  it("its reason, cut at 500 characters", async () => {
    // fast-xml-parser names both tags in its message, so it runs well past 500 characters.
    const body = bytes(`<${"a".repeat(400)}></${"b".repeat(400)}>`);
    const { answer, row } = await deliverBytes("nuvei", body, "application/xml");
    expect(answer.status).toBe("quarantined");
    expect(String(row?.last_error)).toHaveLength(500);
    expect(String(row?.last_error)).toMatch(/^XML not well-formed: /);
  });

  it("JSON text as its payload only when the body is strict UTF-8 JSON", async () => {
    const readable = '{"eventId":"evt_q_payload_kept","type":"a b"}';
    expect((await deliverBytes("nova", bytes(readable))).row?.payload).toBe(readable);
    // Would read as JSON if the bad byte were replaced, or the byte-order mark dropped, on decoding.
    const badByte = new Uint8Array([...bytes('{"eventId":"evt_q_bad_byte","note":"'), 0xff, ...bytes('"}')]);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"eventId":"evt_q_bom","type":"payment.succeeded"}')]);
    for (const body of [badByte, bom]) {
      const { answer, row } = await deliverBytes("nova", body);
      expect(answer.status).toBe("quarantined");
      expect(row?.payload).toBe("null");
      const detail = (await (await api(`/events/${answer.id}`)).json()) as Record<string, unknown>;
      expect(detail).toMatchObject({ payload: null });
    }
  });

  it("no alert without ALERT_URL", async () => {
    const { answer } = await deliverBytes("nova", bytes('{"eventId":"evt_q_no_alert","type":"a b"}'));
    expect(answer.status).toBe("quarantined");
    const notices = await env.DB.prepare("SELECT COUNT(*) AS n FROM alerts_outbox WHERE event_id = ?")
      .bind(answer.id)
      .first("n");
    expect(notices).toBe(0);
  });

  it("the fast path keeps the first body's hash after a conflicting one", async () => {
    const first = bytes('{"eventId":"evt_q_mark_kept","type":"a b"}');
    const { answer } = await deliverBytes("nova", first);
    const other = await deliverBytes("nova", bytes('{"eventId":"evt_q_mark_kept","type":"a  b"}'));
    expect(other.answer).toEqual({ status: "duplicate", id: answer.id, conflict: true });
    expect(await env.DEDUPE_KV.getWithMetadata(dedupeKvKey("nova", "evt_q_mark_kept"))).toMatchObject({
      value: answer.id,
      metadata: { sha: sha256HexNode(first) },
    });
  });
});

describe("the operator sees and replays quarantined deliveries", () => {
  it("lists them, shows their bytes and reasons, and a replay of still-invalid bytes keeps them quarantined", async () => {
    const body = new Uint8Array([0x7b, 0xff, 0x7d]);
    const { answer } = await deliverBytes("nova", body);
    const list = (await (await api("/events?status=quarantined&limit=200")).json()) as {
      events: { id: string; status: string; lastError: string }[];
    };
    expect(list.events).toContainEqual(
      expect.objectContaining({ id: answer.id, status: "quarantined", lastError: "body is not valid UTF-8" }),
    );
    const detail = (await (await api(`/events/${answer.id}`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({
      status: "quarantined",
      payload: null,
      rawBody: { encoding: "base64", contentType: "application/json", text: btoa("{\xff}") },
    });

    await env.DB.prepare("UPDATE events SET last_error = 'an older reason' WHERE id = ?").bind(answer.id).run();
    const { env: testEnv, sent } = recordingEnv();
    const replay = await api(`/events/${answer.id}/replay`, { method: "POST" }, testEnv);
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ status: "quarantined", id: answer.id, reason: "body is not valid UTF-8" });
    expect(sent).toEqual([]);
    expect(await eventRow(answer.id)).toMatchObject({ status: "quarantined", last_error: "body is not valid UTF-8" });
  });

  it("a replay after the code learned to read the bytes flows on as a normal event, effect once", async () => {
    // As if an earlier deploy had quarantined a callback this code reads: the row a quarantine leaves.
    const externalRequestId = `quarantined_then_fixed_${Date.now()}`;
    const payload = nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId });
    const body = JSON.stringify(payload);
    const id = await gatewayEventId("nuvouch", payload.id);
    await env.DB.prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error, received_at,
                           updated_at, body_sha256, raw_body, content_type)
       VALUES (?1, 'nuvouch', ?2, 'nuvouch.approval.approved', ?3, 'quarantined', 0, 'data: an old schema', ?4, ?4, ?5,
               ?6, 'application/json')`,
    )
      .bind(id, payload.id, body, new Date(NOW_MS).toISOString(), sha256HexNode(body), bytes(body))
      .run();
    const { env: testEnv, sent } = recordingEnv();
    expect(await (await api(`/events/${id}/replay`, { method: "POST" }, testEnv)).json()).toEqual({
      status: "replay_queued",
      id,
    });
    expect(sent).toEqual([
      expect.objectContaining({ id, replay: true, payload: body, bodySha256: sha256HexNode(body) }),
    ]);
    const { registry, runs } = countingRegistry();
    await consume(sent, { registry });
    await consume(sent, { registry });
    expect(runs).toHaveLength(1);
    expect(await eventRow(id)).toMatchObject({ status: "processed", last_error: null, raw_body: null });
    // The provider's own retry of those bytes is now a plain duplicate: the edge path's D1 read says so
    // at the door; the default KV path, which never saw this key, queues it and the consumer drops it.
    const edge = recordingEnv({ DEDUPE_MODE: "edge" } as Partial<Env>);
    expect(await (await deliver("nuvouch", body, { env: edge.env })).json()).toEqual({ status: "duplicate", id });
    const kv = recordingEnv();
    expect((await deliver("nuvouch", body, { env: kv.env })).status).toBe(202);
    await consume(kv.sent, { registry });
    expect(runs).toHaveLength(1);
  });

  it("a quarantined Nuvei body needs no consumer: it never touches transaction state", async () => {
    const body = json(nuveiWebhook("approved", { transactionId: "tx_quarantine_only", result: "approved" }));
    const { answer } = await deliverBytes("nuvei", body);
    expect(answer.status).toBe("quarantined");
    const tx = await env.DB.prepare(
      "SELECT 1 FROM nuvei_transactions WHERE transaction_id = 'tx_quarantine_only'",
    ).first();
    expect(tx).toBeNull();
  });
});

describe("alerts for quarantined deliveries", () => {
  it("with ALERT_URL set, a quarantined delivery leaves one pending alert, and its retry no second", async () => {
    const { env: recording } = recordingEnv({ ALERT_URL: `${env.FORWARD_SINK_URL}/ok` } as Partial<Env>);
    const body = bytes('{"eventId":"evt_alerted","type":"has space"}');
    const send = () =>
      callGateway(webhookRequest("nova", body, signedHeaders("nova", body, NOW_S)), { env: recording });
    const first = (await (await send()).json()) as { id: string; status: string };
    expect(first.status).toBe("quarantined");
    await send();
    const { results } = await env.DB.prepare("SELECT status, reason FROM alerts_outbox WHERE event_id = ?")
      .bind(first.id)
      .all();
    expect(results).toEqual([{ status: "quarantined", reason: expect.stringContaining("type") }]);
  });
});
