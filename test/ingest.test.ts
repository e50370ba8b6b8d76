import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dedupeKvKey } from "../src/ingest/dedupe";
import { log } from "../src/log";
import { consume, messageFor } from "./support/consumer";
import { callGateway, deliver, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { novaEvent, nuveiWebhook, nuvouchApprovalEvent, nuvouchConnectionEvent } from "./support/payloads";
import { SECRETS, sha256HexNode, signedHeaders, timestampedHeader } from "./support/sign";

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

async function eventCount() {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM events").first<number>("n")) ?? 0;
}

async function kvKeys(prefix = "dedupe:") {
  return (await env.DEDUPE_KV.list({ prefix })).keys.map((k) => k.name);
}

afterEach(() => vi.restoreAllMocks());

describe("accepted deliveries", () => {
  it.each([
    ["nova", novaEvent(), (p: ReturnType<typeof novaEvent>) => p.eventId],
    ["nuvouch", nuvouchConnectionEvent(), (p: ReturnType<typeof nuvouchConnectionEvent>) => p.id],
    ["nuvouch", nuvouchApprovalEvent(), (p: ReturnType<typeof nuvouchApprovalEvent>) => p.id],
    ["nuvei", nuveiWebhook("pending"), (p: unknown) => sha256HexNode(JSON.stringify(p))],
  ] as const)("%s: verified, queued with its dedupe key, then acknowledged 202", async (provider, payload, key) => {
    const { env: testEnv, sent } = recordingEnv();
    const body = JSON.stringify(payload);
    const response = await deliver(provider, body, { env: testEnv });
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { status: string; id: string };
    expect(answer.status).toBe("accepted");
    expect(answer.id).toMatch(/^gw_[0-9a-f]{32}$/);
    const dedupeKey = (key as (p: unknown) => string)(payload);
    expect(sent).toEqual([
      expect.objectContaining({
        v: 1,
        id: answer.id,
        provider,
        dedupeKey,
        payload: body,
        receivedAt: "2026-11-23T12:00:00.000Z",
      }),
    ]);
    // The default (kv) fast path marks the accepted key in KV.
    expect(await env.DEDUPE_KV.get(dedupeKvKey(provider, dedupeKey))).toBe(answer.id);
  });

  it("DEDUPE_MODE=kv marks each accepted delivery in KV and answers its retry from there", async () => {
    const { env: kvEnv, sent } = recordingEnv({ DEDUPE_MODE: "kv" } as Partial<Env>);
    const payload = novaEvent();
    const first = (await (await deliver("nova", payload, { env: kvEnv })).json()) as { id: string };
    expect(await env.DEDUPE_KV.get(dedupeKvKey("nova", payload.eventId))).toBe(first.id);
    const again = await deliver("nova", payload, { env: kvEnv, signedAt: NOW_S + 30, nowMs: (NOW_S + 30) * 1000 });
    expect(await again.json()).toEqual({ status: "duplicate", id: first.id });
    expect(sent).toHaveLength(1);
  });

  it("edge mode: answers a retry of an event the consumer already recorded as a duplicate, with no cache entry", async () => {
    const payload = novaEvent();
    await consume([await messageFor("nova", payload)]);
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: "edge" } as Partial<Env>);
    const retry = await deliver("nova", payload, { env: testEnv });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ status: "duplicate" });
    expect(sent).toEqual([]);
  });

  it.each([
    ["nova", "x-nova-signature", novaEvent()],
    ["nuvouch", "x-nuvouch-signature", nuvouchApprovalEvent()],
  ] as const)(
    "%s: a header with a trailing comma or an empty v1 beside the valid one is accepted",
    async (provider, name, payload) => {
      const body = JSON.stringify(payload);
      const header = timestampedHeader(body, SECRETS[provider], NOW_S);
      const mac = header.split(",v1=")[1];
      for (const variant of [`${header},`, `t=${NOW_S},v1=,v1=${mac}`]) {
        const { env: testEnv, sent } = recordingEnv();
        const response = await callGateway(
          webhookRequest(provider, body, { "content-type": "application/json", [name]: variant }),
          { env: testEnv },
        );
        expect(response.status, variant).toBe(202);
        expect(sent).toHaveLength(1);
        await env.DEDUPE_KV.delete(dedupeKvKey(provider, "eventId" in payload ? payload.eventId : payload.id));
      }
    },
  );

  it("keeps unknown event types and unknown fields", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const payload = novaEvent({ type: "dma.session.brand_new", extra: { nested: true }, data: { whatever: [1, 2] } });
    const response = await deliver("nova", payload, { env: testEnv });
    expect(response.status).toBe(202);
    expect(sent[0]).toMatchObject({ type: "dma.session.brand_new", payload: JSON.stringify(payload) });
  });

  it("accepts event ids with dots", async () => {
    const response = await deliver("nova", novaEvent({ eventId: "evt.2026.11.23.0001" }));
    expect(response.status).toBe(202);
  });

  it("answers a replay inside the window as a duplicate, without a second enqueue", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const body = JSON.stringify(novaEvent());
    const first = (await (await deliver("nova", body, { env: testEnv })).json()) as { id: string };
    const again = await deliver("nova", body, { env: testEnv, signedAt: NOW_S + 5, nowMs: (NOW_S + 5) * 1000 });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: "duplicate", id: first.id });
    expect(sent).toHaveLength(1);
  });

  it("dedupes a Nuvei retry by its body, whatever its new timestamp", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const body = JSON.stringify(nuveiWebhook("approved"));
    expect((await deliver("nuvei", body, { env: testEnv })).status).toBe(202);
    const retry = await deliver("nuvei", body, { env: testEnv, signedAt: NOW_S + 60, nowMs: (NOW_S + 60) * 1000 });
    expect(retry.status).toBe(200);
    expect(sent).toHaveLength(1);
  });

  it("edge mode: answers a retry of a dead-lettered event as a duplicate too", async () => {
    const payload = novaEvent();
    await consume([await messageFor("nova", payload)], { queue: "webhook-events-dlq" });
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: "edge" } as Partial<Env>);
    const retry = await deliver("nova", payload, { env: testEnv });
    expect(retry.status).toBe(200);
    expect(sent).toEqual([]);
  });

  it("parses Nuvei name-value pairs into the JSON shape, verified over the raw bytes", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const body = "transactionId=7110000000012345678&result.status=approved&currency=USD&amount=10.50";
    const headers = { ...signedHeaders("nuvei", body, NOW_S), "content-type": "application/x-www-form-urlencoded" };
    const response = await callGateway(webhookRequest("nuvei", body, headers), { env: testEnv });
    expect(response.status).toBe(202);
    expect(sent[0]).toMatchObject({ type: "transaction.approved", dedupeKey: sha256HexNode(body) });
    expect(JSON.parse((sent[0] as { payload: string }).payload)).toEqual({
      transactionId: "7110000000012345678",
      result: { status: "approved" },
      currency: "USD",
      amount: "10.50",
    });
  });

  it("accepts a signature under either of two rotated secrets", async () => {
    const rotated = recordingEnv({ NOVA_WEBHOOK_SECRET: `new_secret, ${SECRETS.nova}` } as Partial<Env>);
    expect((await deliver("nova", novaEvent(), { env: rotated.env })).status).toBe(202);
    expect((await deliver("nova", novaEvent(), { env: rotated.env, secret: "new_secret" })).status).toBe(202);
    expect((await deliver("nova", novaEvent(), { env: rotated.env, secret: "unknown" })).status).toBe(401);
  });

  it("parks a payload too large for one queue message in D1 and queues a reference", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const payload = novaEvent({ data: { blob: "x".repeat(300_000) } });
    const response = await deliver("nova", payload, { env: testEnv });
    expect(response.status).toBe(202);
    const message = sent[0] as { id: string; payload?: string; payloadRef?: string };
    expect(message.payload).toBeUndefined();
    // Its own key, not the event id: a conflicting body's parked copy can never overwrite this one.
    expect(message.payloadRef?.startsWith(`${message.id}:`)).toBe(true);
    const row = await env.DB.prepare("SELECT payload FROM payload_blobs WHERE id = ?")
      .bind(message.payloadRef)
      .first<{ payload: string }>();
    expect(row?.payload).toBe(JSON.stringify(payload));
  });
});

describe("rejected deliveries change nothing", () => {
  /** Sends the request through a recording env and checks that it changed nothing at all. */
  async function expectRejected(request: Request, status: number, code: string | null) {
    const before = { kv: await kvKeys(), events: await eventCount() };
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: "kv" } as Partial<Env>);
    const response = await callGateway(request, { env: testEnv });
    expect(response.status).toBe(status);
    if (code) expect(await errorCode(response)).toBe(code);
    expect(sent).toEqual([]);
    expect(await kvKeys()).toEqual(before.kv);
    expect(await eventCount()).toBe(before.events);
  }

  const body = JSON.stringify(novaEvent());
  const nova = (headers: Record<string, string>, payload: BodyInit | null = body) =>
    webhookRequest("nova", payload, { "content-type": "application/json", ...headers });

  it.each([
    ["no signature header", {}, "signature_missing"],
    ["an empty signature header", { "x-nova-signature": "" }, "signature_missing"],
    ["a garbled header", { "x-nova-signature": "garbage" }, "signature_invalid"],
    ["a non-numeric t", { "x-nova-signature": `t=abc,v1=${"a".repeat(64)}` }, "signature_invalid"],
    ["only v0", { "x-nova-signature": `t=${NOW_S},v0=${"a".repeat(64)}` }, "signature_invalid"],
    ["the wrong secret", { "x-nova-signature": timestampedHeader(body, "wrong", NOW_S) }, "signature_invalid"],
    [
      "a timestamp 301 s old",
      { "x-nova-signature": timestampedHeader(body, SECRETS.nova, NOW_S - 301) },
      "timestamp_out_of_tolerance",
    ],
    [
      "a timestamp 301 s ahead",
      { "x-nova-signature": timestampedHeader(body, SECRETS.nova, NOW_S + 301) },
      "timestamp_out_of_tolerance",
    ],
  ])("401 for %s", async (_name, headers, code) => {
    await expectRejected(nova(headers), 401, code);
  });

  it("401 for two signature headers, one of them valid", async () => {
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("x-nova-signature", timestampedHeader(body, SECRETS.nova, NOW_S));
    headers.append("x-nova-signature", timestampedHeader(body, "attacker", NOW_S));
    const request = new Request("https://gateway.test/webhooks/nova", { method: "POST", body, headers });
    await expectRejected(request, 401, "signature_invalid");
  });

  it("accepts timestamps 299 s old and 299 s ahead", async () => {
    for (const offset of [-299, 299]) {
      const response = await deliver("nova", novaEvent(), { signedAt: NOW_S + offset });
      expect(response.status).toBe(202);
    }
  });

  it("401 when the body was re-serialised, reordered or given a trailing newline", async () => {
    const original = '{"eventId":"evt_reorder","type":"payment.succeeded","data":{"a":1,"b":2}}';
    const header = { "x-nova-signature": timestampedHeader(original, SECRETS.nova, NOW_S) };
    await expectRejected(nova(header, JSON.stringify(JSON.parse(original), null, 2)), 401, "signature_invalid");
    await expectRejected(nova(header, original.replace('"a":1,"b":2', '"b":2,"a":1')), 401, "signature_invalid");
    await expectRejected(nova(header, `${original}\n`), 401, "signature_invalid");
    await expectRejected(nova(header, original.replace("evt_reorder", "evt_reordes")), 401, "signature_invalid");
  });

  it.each(["nova", "nuvei", "nuvouch"] as const)(
    "%s: 401 for every delivery while its secret is unset",
    async (provider) => {
      const binding = {
        nova: "NOVA_WEBHOOK_SECRET",
        nuvei: "NUVEI_WEBHOOK_SECRET",
        nuvouch: "NUVOUCH_CALLBACK_SECRET",
      }[provider];
      const unset = recordingEnv({ [binding]: " , " } as Partial<Env>);
      const payload =
        provider === "nova" ? novaEvent() : provider === "nuvei" ? nuveiWebhook() : nuvouchConnectionEvent();
      const response = await deliver(provider, payload, { env: unset.env });
      expect(response.status).toBe(401);
      expect(unset.sent).toEqual([]);
    },
  );

  it("401 for a Nuvei digest that is not base64 of 32 bytes, or a non-numeric timestamp", async () => {
    const body = JSON.stringify(nuveiWebhook());
    const good = signedHeaders("nuvei", body, NOW_S);
    await expectRejected(
      webhookRequest("nuvei", body, { ...good, "x-authentication-digest": "not base64!" }),
      401,
      "signature_invalid",
    );
    await expectRejected(
      webhookRequest("nuvei", body, { ...good, "x-authentication-timestamp": "1e9" }),
      401,
      "signature_invalid",
    );
    await expectRejected(
      webhookRequest("nuvei", body, { "content-type": "application/json" }),
      401,
      "signature_missing",
    );
  });

  it("413 for a declared Content-Length over the limit, before reading", async () => {
    const request = nova({ "content-length": String(2 * 1024 * 1024) }, "{}");
    await expectRejected(request, 413, "payload_too_large");
  });

  it("413 for a chunked body that grows past the limit, without a Content-Length", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 64) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    await expectRejected(nova({}, stream), 413, "payload_too_large");
    // Reading stopped just past the limit: 1 MiB is 16 chunks of 64 KiB.
    expect(pulled).toBeLessThan(20);
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])("405 for %s on a webhook route", async (method) => {
    const response = await callGateway(webhookRequest("nova", method === "GET" ? null : "{}", {}, method));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it.each(["stripe", "constructor", "__proto__", "toString"])("404 for the unknown provider %s", async (name) => {
    await expectRejected(webhookRequest(name, body, {}), 404, null);
  });
});

describe("faults", () => {
  it.each(["edge", "kv"])(
    "%s mode: 503 enqueue_failed and no dedupe mark when queue.send throws; the retry then succeeds",
    async (mode) => {
      const payload = novaEvent();
      const failing = {
        send: async () => {
          throw new Error("queue unavailable");
        },
      } as unknown as Queue;
      const response = await deliver("nova", payload, {
        env: { ...env, EVENTS_QUEUE: failing, DEDUPE_MODE: mode } as Env,
      });
      expect(response.status).toBe(503);
      expect(await errorCode(response)).toBe("enqueue_failed");
      expect(await env.DEDUPE_KV.get(dedupeKvKey("nova", payload.eventId))).toBeNull();

      const { env: healthy, sent } = recordingEnv({ DEDUPE_MODE: mode } as Partial<Env>);
      expect((await deliver("nova", payload, { env: healthy })).status).toBe(202);
      expect(sent).toHaveLength(1);
    },
  );

  it("still verifies and enqueues when the edge lookup (D1) throws", async () => {
    const unavailable = {
      prepare: () => {
        throw new Error("D1 unavailable");
      },
    };
    const brokenDb = { ...unavailable, withSession: () => unavailable } as unknown as D1Database;
    const { env: testEnv, sent } = recordingEnv({ DB: brokenDb, DEDUPE_MODE: "edge" } as Partial<Env>);
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(sent).toHaveLength(1);
  });

  it("does not wait on a dedupe store that hangs: queued after the lookup's budget", async () => {
    const hanging = { get: () => new Promise(() => {}), put: async () => {} } as unknown as KVNamespace;
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_KV: hanging, DEDUPE_MODE: "kv" } as Partial<Env>);
    const response = await deliver("nova", novaEvent(), { env: testEnv });
    expect(response.status).toBe(202);
    expect(sent).toHaveLength(1);
  });

  it("kv mode: still verifies and enqueues when the KV lookup throws", async () => {
    const kv = {
      get: async () => {
        throw new Error("kv down");
      },
      put: env.DEDUPE_KV.put.bind(env.DEDUPE_KV),
    } as unknown as KVNamespace;
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_KV: kv, DEDUPE_MODE: "kv" } as Partial<Env>);
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(sent).toHaveLength(1);
    const forged = await deliver("nova", novaEvent(), { env: testEnv, secret: "wrong" });
    expect(forged.status).toBe(401);
    expect(sent).toHaveLength(1);
  });

  it("kv mode: acknowledges when the KV mark fails after a successful send: the event is safe", async () => {
    const kv = {
      get: env.DEDUPE_KV.get.bind(env.DEDUPE_KV),
      put: async () => {
        throw new Error("kv write limit");
      },
    } as unknown as KVNamespace;
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_KV: kv, DEDUPE_MODE: "kv" } as Partial<Env>);
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(sent).toHaveLength(1);
  });
});

describe("logs", () => {
  it("one JSON line per accepted delivery with outcome and latency, never a secret, signature or body", async () => {
    const lines: string[] = [];
    // Every console level: a leak through warn or error is as much a leak.
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const payload = novaEvent({ data: { cardHolder: "SECRET-CARDHOLDER-NAME" } });
    const body = JSON.stringify(payload);
    const headers = signedHeaders("nova", body, NOW_S);
    await callGateway(webhookRequest("nova", body, headers));
    await callGateway(
      webhookRequest("nova", body, { ...headers, "x-nova-signature": timestampedHeader(body, "bad", NOW_S) }),
    );
    const records = lines.map((line) => JSON.parse(line));
    expect(records.map((r) => [r.message, r.provider, r.outcome, r.status])).toEqual([
      ["delivery", "nova", "accepted", 202],
      ["deliveries refused", undefined, undefined, undefined],
    ]);
    expect(records[0]).toMatchObject({ dedupeKey: payload.eventId, latencyMs: expect.any(Number) });
    expect(records[1]).toMatchObject({ refusals: [expect.objectContaining({ code: "signature_invalid", count: 1 })] });
    const all = lines.join("\n");
    for (const leaked of [SECRETS.nova, headers["x-nova-signature"] as string, "SECRET-CARDHOLDER-NAME", "v1="]) {
      expect(all).not.toContain(leaked);
    }
  });
});

describe("bounds", () => {
  it("a 120 KB type leaves no log line over 1 KB and no orphan row when it is kept", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM payload_blobs").first("n");
    const payload = novaEvent({ type: "x".repeat(120_000), data: { blob: "y".repeat(200_000) } });
    const response = await deliver("nova", payload);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: "quarantined" });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThan(1024);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM payload_blobs").first("n")).toBe(before);
  });

  it("log() cuts any long field, whoever calls it", () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    log("warn", "delivery", { type: "t".repeat(100_000), id: "gw_1" });
    const record = JSON.parse(lines[0] as string);
    expect(record.id).toBe("gw_1");
    expect(record.type.length).toBeLessThan(400);
    expect(record.type.startsWith("t".repeat(300))).toBe(true);
  });

  it("a large delivery the queue refuses leaves no parked payload behind", async () => {
    const failing = {
      send: async () => {
        throw new Error("queue unavailable");
      },
    } as unknown as Queue;
    vi.spyOn(console, "error").mockImplementation(() => {});
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM payload_blobs").first("n");
    const payload = novaEvent({ data: { blob: "z".repeat(300_000) } });
    const response = await deliver("nova", payload, { env: { ...env, EVENTS_QUEUE: failing } as Env });
    expect(response.status).toBe(503);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM payload_blobs").first("n")).toBe(before);
  });
});

describe("health", () => {
  it("GET /healthz answers 200", async () => {
    const response = await callGateway(new Request("https://gateway.test/healthz"));
    expect(response.status).toBe(200);
  });
});
