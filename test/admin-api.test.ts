import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { consume, messageFor } from "./support/consumer";
import { d1Failing } from "./support/faults";
import { callGateway, recordingEnv } from "./support/gateway";
import { novaEvent, nuveiWebhook } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };
const api = (path: string, init: RequestInit = {}, testEnv: Env = env) =>
  callGateway(new Request(`https://gateway.test/api${path}`, { ...init, headers: { ...auth, ...init.headers } }), {
    env: testEnv,
  });

type EventList = {
  events: { id: string; provider: string; type: string; status: string }[];
  nextCursor: string | null;
};

const ids: string[] = [];
beforeAll(async () => {
  // 7 events, received in order, so newest-first is the reverse.
  for (let i = 0; i < 5; i++) {
    const m = await messageFor("nova", novaEvent({ type: i % 2 ? "payment.failed" : "payment.succeeded" }), {
      receivedAt: `2026-11-23T11:00:0${i}.000Z`,
    });
    ids.push(m.id);
    await consume([m]);
  }
  for (let i = 0; i < 2; i++) {
    const m = await messageFor("nuvei", nuveiWebhook("pending", { transactionId: `tx_admin_${i}` }), {
      receivedAt: `2026-11-23T11:00:1${i}.000Z`,
    });
    ids.push(m.id);
    await consume([m]);
  }
});

describe("auth", () => {
  it.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer nope" }],
    [
      "a token differing only in its last character",
      { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN.slice(0, -1)}x` },
    ],
    ["another scheme", { authorization: `Basic ${TEST_SECRETS.ADMIN_API_TOKEN}` }],
    ["a malformed header", { authorization: "Bearer" }],
  ])("401 with %s", async (_name, headers) => {
    const response = await callGateway(new Request("https://gateway.test/api/events", { headers }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("503 for every route while ADMIN_API_TOKEN is unset, even with a bearer token", async () => {
    const closed = { ...env, ADMIN_API_TOKEN: "" } as Env;
    for (const path of ["/events", `/events/${ids[0]}`, "/nuvei/transactions/x"]) {
      const response = await api(path, {}, closed);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: "admin_api_disabled" } });
    }
  });

  it("503 with a clear code when ADMIN_API_TOKEN holds characters no bearer token can carry", async () => {
    const odd = { ...env, ADMIN_API_TOKEN: "p@ss word!" } as Env;
    const response = await callGateway(
      new Request("https://gateway.test/api/events", { headers: { authorization: "Bearer p@ss word!" } }),
      { env: odd },
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "admin_api_misconfigured" } });
  });

  it("/healthz needs no token", async () => {
    expect((await callGateway(new Request("https://gateway.test/healthz"))).status).toBe(200);
  });
});

describe("GET /api/events", () => {
  it("lists newest first with the contract's fields", async () => {
    const body = (await (await api("/events?limit=200")).json()) as EventList;
    const ours = body.events.filter((e) => ids.includes(e.id));
    expect(ours.map((e) => e.id)).toEqual([...ids].reverse());
    expect(ours[0]).toEqual({
      id: ids[6],
      provider: "nuvei",
      type: "transaction.pending",
      dedupeKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      status: "processed",
      receivedAt: "2026-11-23T11:00:11.000Z",
      occurredAt: expect.any(String),
      attempts: 1,
      lastError: null,
    });
  });

  it("filters by provider, type, status and dedupe key", async () => {
    const byType = (await (await api("/events?provider=nova&type=payment.failed")).json()) as EventList;
    expect(byType.events.map((e) => e.id)).toEqual([ids[3], ids[1]]);
    const dead = (await (await api("/events?status=dead")).json()) as EventList;
    expect(dead.events).toEqual([]);
    const row = await env.DB.prepare("SELECT dedupe_key FROM events WHERE id = ?")
      .bind(ids[2])
      .first<string>("dedupe_key");
    const byKey = (await (await api(`/events?dedupeKey=${row}`)).json()) as EventList;
    expect(byKey.events.map((e) => e.id)).toEqual([ids[2]]);
  });

  it("pages with an opaque cursor until nextCursor is null", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/events?provider=nova&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await (await api(query)).json()) as EventList;
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids.slice(0, 5).reverse());
  });

  it.each([
    ["limit=0"],
    ["limit=201"],
    ["limit=abc"],
    ["limit=2.5"],
    ["status=lost"],
    ["provider=stripe"],
    ["cursor=not-a-cursor"],
  ])("400 for %s", async (query) => {
    const response = await api(`/events?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_query" } });
  });
});

describe("GET /api/events/:id and replay", () => {
  it("splices the payload in as stored text: digits JSON.parse would round or reformat survive", async () => {
    const body = '{"eventId":"evt_digits","type":"x","data":{"amount":10.10,"id":12345678901234567890123}}';
    const message = await messageFor("nova", body);
    await consume([message]);
    const response = await api(`/events/${message.id}`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ id: message.id, effects: [] });
    // Compared as text: JSON.parse on both sides would hide a rounding.
    expect(text).toContain(`"payload":${body}`);
  });

  it("every /api answer carries no-store and nosniff, errors included", async () => {
    for (const response of [
      await api("/events"),
      await api("/events/gw_unknown"),
      await callGateway(new Request("https://gateway.test/api/events")),
    ]) {
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("a malformed JSON body answers 400 in the one error shape, not text", async () => {
    const response = await api("/nuvouch/connections", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toMatchObject({ error: { code: "invalid_json", message: expect.any(String) } });
  });

  it("an unavailable D1 answers 503 with Retry-After, not 500", async () => {
    const unavailable = d1Failing(env.DB, "prepare", "D1_ERROR: Network connection lost.");
    const response = await api(`/events/${ids[0]}`, {}, { ...env, DB: unavailable } as Env);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toMatchObject({ error: { code: "storage_unavailable" } });
  });

  it("404 in the one error shape for an unknown event", async () => {
    for (const response of [
      await api("/events/gw_unknown"),
      await api("/events/gw_unknown/replay", { method: "POST" }),
    ]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: "event_not_found" } });
    }
  });

  it("replay answers 202 and queues the stored event marked as a replay", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const response = await api(`/events/${ids[1]}/replay`, { method: "POST" }, testEnv);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "replay_queued", id: ids[1] });
    const stored = await env.DB.prepare("SELECT payload, body_sha256 FROM events WHERE id = ?")
      .bind(ids[1])
      .first<{ payload: string; body_sha256: string }>();
    // It names the body it replays, so the consumer can never take it for a conflict.
    expect(sent).toEqual([
      expect.objectContaining({
        id: ids[1],
        provider: "nova",
        replay: true,
        payload: stored?.payload,
        bodySha256: stored?.body_sha256,
      }),
    ]);
    const again = await consume(sent);
    expect(again.acked).toHaveLength(1);
  });

  it("replay answers 503 when the queue refuses", async () => {
    const failing = {
      ...env,
      EVENTS_QUEUE: {
        send: async () => {
          throw new Error("down");
        },
      },
    } as unknown as Env;
    const response = await api(`/events/${ids[1]}/replay`, { method: "POST" }, failing);
    expect(response.status).toBe(503);
  });
});
