import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../src/config";
import { dedupeKvKey } from "../src/ingest/dedupe";
import { consume, messageFor } from "./support/consumer";
import { deliver, NOW_MS, NOW_S, recordingEnv } from "./support/gateway";
import { novaEvent, nuveiWebhook } from "./support/payloads";
import { sha256HexNode } from "./support/sign";

// The ingest fast path in each mode (docs/contract.md §1, README "Dedupe"). D1 stays the
// authority in both; these tests pin what each mode stores and reads.

describe("the default: DEDUPE_MODE=kv, as the design card says", () => {
  it("is kv in wrangler.toml and when the var is unset or blank", () => {
    expect(env.DEDUPE_MODE).toBe("kv");
    expect(getConfig({ ...env, DEDUPE_MODE: undefined } as unknown as Env).DEDUPE_MODE).toBe("kv");
    expect(getConfig({ ...env, DEDUPE_MODE: "  " } as Env).DEDUPE_MODE).toBe("kv");
  });

  it("puts an accepted delivery's dedupe key in KV, expiring after DEDUPE_TTL_SECONDS", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const payload = nuveiWebhook("approved", { transactionId: crypto.randomUUID() });
    const body = JSON.stringify(payload);
    const response = await deliver("nuvei", body, { env: testEnv });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(sent).toHaveLength(1);

    const key = dedupeKvKey("nuvei", sha256HexNode(body));
    expect(await env.DEDUPE_KV.get(key)).toBe(id);
    const [listed] = (await env.DEDUPE_KV.list({ prefix: key })).keys;
    const ttl = Number(env.DEDUPE_TTL_SECONDS);
    // KV stamps the expiry from its own clock: within a minute of now + TTL.
    expect(Math.abs((listed?.expiration ?? 0) - (Date.now() / 1000 + ttl))).toBeLessThan(60);
  });

  it("answers the provider's retry from KV, without queueing it again", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const payload = novaEvent();
    const first = (await (await deliver("nova", payload, { env: testEnv })).json()) as { id: string };
    const retry = await deliver("nova", payload, { env: testEnv, signedAt: NOW_S + 60, nowMs: (NOW_S + 60) * 1000 });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: "duplicate", id: first.id });
    expect(sent).toHaveLength(1);
  });

  it("keeps the accepted body's hash in the key's metadata, so another body under the key is seen", async () => {
    const { env: testEnv } = recordingEnv();
    const payload = novaEvent();
    const { id } = (await (await deliver("nova", payload, { env: testEnv })).json()) as { id: string };
    const stored = await env.DEDUPE_KV.getWithMetadata(dedupeKvKey("nova", payload.eventId));
    expect(stored).toMatchObject({ value: id, metadata: { sha: sha256HexNode(JSON.stringify(payload)) } });
  });

  it("a key marked before bodies were hashed (no metadata) answers any body under it as a plain duplicate", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const payload = novaEvent();
    await env.DEDUPE_KV.put(dedupeKvKey("nova", payload.eventId), "gw_marked_before_hashes");
    const retry = await deliver("nova", payload, { env: testEnv });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: "duplicate", id: "gw_marked_before_hashes" });
    expect(sent).toEqual([]);
  });
});

describe("DEDUPE_MODE=edge, opt-in", () => {
  const edge = () => recordingEnv({ DEDUPE_MODE: "edge" } as Partial<Env>);

  /** What the data centre's cache holds for a key, as the edge fast path wrote it. */
  const cached = (provider: string, dedupeKey: string) =>
    caches.default.match(`https://gateway.test/__dedupe/${provider}/${encodeURIComponent(dedupeKey)}`);

  it("answers a quick re-send from the data centre's cache, before the consumer recorded anything", async () => {
    const { env: testEnv, sent } = edge();
    const payload = novaEvent({ eventId: `evt/edge?cache=${crypto.randomUUID()}` });
    const { id } = (await (await deliver("nova", payload, { env: testEnv })).json()) as { id: string };
    const entry = await cached("nova", payload.eventId);
    expect(await entry?.text()).toBe(`${id} ${sha256HexNode(JSON.stringify(payload))}`);
    expect(entry?.headers.get("cache-control")).toBe(`max-age=${env.DEDUPE_TTL_SECONDS}`);
    const retry = await deliver("nova", payload, { env: testEnv, signedAt: NOW_S + 5, nowMs: NOW_MS + 5000 });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: "duplicate", id });
    expect(sent).toHaveLength(1);
  });

  it("sees another body under a key it just accepted as a conflict, from the cache alone", async () => {
    const { env: testEnv, sent } = edge();
    const first = novaEvent();
    const { id } = (await (await deliver("nova", first, { env: testEnv })).json()) as { id: string };
    const other = { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId };
    const answer = await deliver("nova", other, { env: testEnv, signedAt: NOW_S + 5, nowMs: NOW_MS + 5000 });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: "duplicate", id, conflict: true });
    expect(sent).toHaveLength(2);
  });

  it("answers a retry of an event recorded before bodies were hashed as a plain duplicate, from D1", async () => {
    const payload = novaEvent();
    const message = await messageFor("nova", payload);
    await consume([message]);
    await env.DB.prepare("UPDATE events SET body_sha256 = NULL WHERE id = ?").bind(message.id).run();
    const { env: testEnv, sent } = edge();
    const retry = await deliver("nova", { ...payload, type: "payment.refunded" }, { env: testEnv });
    expect(await retry.json()).toEqual({ status: "duplicate", id: message.id });
    expect(sent).toEqual([]);
  });

  it("spends no KV operation on an accepted delivery", async () => {
    const { env: testEnv, sent } = edge();
    const payload = novaEvent();
    expect((await deliver("nova", payload, { env: testEnv })).status).toBe(202);
    expect(sent).toHaveLength(1);
    expect(await env.DEDUPE_KV.get(dedupeKvKey("nova", payload.eventId))).toBeNull();
  });

  it.each([
    ["processed", "webhook-events"],
    ["dead", "webhook-events-dlq"],
  ])("answers a retry of an event the consumer recorded (%s) from D1, with nothing in KV", async (_status, queue) => {
    const payload = novaEvent();
    await consume([await messageFor("nova", payload)], { queue });
    const { env: testEnv, sent } = edge();
    const retry = await deliver("nova", payload, { env: testEnv });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ status: "duplicate" });
    expect(sent).toEqual([]);
    expect(await env.DEDUPE_KV.get(dedupeKvKey("nova", payload.eventId))).toBeNull();
  });

  it("still verifies and enqueues when its D1 lookup throws", async () => {
    const unavailable = {
      prepare: () => {
        throw new Error("D1 unavailable");
      },
    };
    const brokenDb = { ...unavailable, withSession: () => unavailable } as unknown as D1Database;
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: "edge", DB: brokenDb } as Partial<Env>);
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(sent).toHaveLength(1);
  });
});
