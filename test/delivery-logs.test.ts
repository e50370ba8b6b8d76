// What the gateway logs for a delivery it does not refuse (README "How a delivery flows"): one JSON line
// per accepted, duplicate, conflicting or quarantined delivery, an error line for one it could not take,
// and a warning when the dedupe fast path fails and the consumer's dedupe has to do. For these outcomes
// the log line is what the operator sees; the provider only sees the status.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consume, messageFor } from "./support/consumer";
import { d1Failing } from "./support/faults";
import { callGateway, deliver, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { novaEvent } from "./support/payloads";
import { signedHeaders } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

/** Every line logged at any level while it runs, parsed. */
function capture() {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
  }
  return {
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    clear: () => void lines.splice(0),
  };
}

const later = (seconds: number) => ({ signedAt: NOW_S + seconds, nowMs: (NOW_S + seconds) * 1000 });
const bytes = (text: string) => new TextEncoder().encode(text);

describe("one line per delivery taken", () => {
  it("a retry answered from the fast path: outcome duplicate, 200, its key and the event's id", async () => {
    const { env: testEnv } = recordingEnv();
    const payload = novaEvent();
    const { id } = (await (await deliver("nova", payload, { env: testEnv })).json()) as { id: string };
    const log = capture();
    expect((await deliver("nova", payload, { env: testEnv, ...later(5) })).status).toBe(200);
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: "info",
        message: "delivery",
        provider: "nova",
        outcome: "duplicate",
        status: 200,
        dedupeKey: payload.eventId,
        id,
      }),
    ]);
  });

  it("another body under an accepted key: outcome conflict, 200, with its key, id and type", async () => {
    const { env: testEnv } = recordingEnv();
    const first = novaEvent();
    const { id } = (await (await deliver("nova", first, { env: testEnv })).json()) as { id: string };
    const log = capture();
    const other = { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId };
    expect((await deliver("nova", other, { env: testEnv, ...later(5) })).status).toBe(200);
    expect(log.records()).toEqual([
      expect.objectContaining({
        message: "delivery",
        outcome: "conflict",
        status: 200,
        dedupeKey: first.eventId,
        id,
        type: "payment.refunded",
      }),
    ]);
  });

  it("a quarantined delivery, its retry and another body under its id: quarantined 202, duplicate 200, conflict 200", async () => {
    const { env: testEnv } = recordingEnv();
    const send = (text: string) =>
      callGateway(webhookRequest("nova", text, signedHeaders("nova", bytes(text), NOW_S)), { env: testEnv });
    const eventId = `evt_logged_quarantine_${Date.now()}`;
    const broken = `{"eventId":"${eventId}","type":"has space"}`;
    const log = capture();
    const { id } = (await (await send(broken)).json()) as { id: string };
    await send(broken);
    await send(`{"eventId":"${eventId}","type":"has  space"}`);
    const reason = "event type must be 1 to 256 visible ASCII characters";
    expect(log.records()).toEqual([
      expect.objectContaining({ message: "delivery", outcome: "quarantined", status: 202, id, reason }),
      expect.objectContaining({ message: "delivery", outcome: "duplicate", status: 200, id, reason }),
      expect.objectContaining({ message: "delivery", outcome: "conflict", status: 200, id, reason }),
    ]);
  });
});

describe("an error line for a delivery that could not be taken", () => {
  it("the queue refused it: enqueue_failed, 503, with its key and id", async () => {
    const failing = {
      send: async () => {
        throw new Error("queue unavailable");
      },
    } as unknown as Queue;
    const payload = novaEvent();
    const log = capture();
    const response = await deliver("nova", payload, { env: { ...env, EVENTS_QUEUE: failing } as Env });
    expect(response.status).toBe(503);
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: "error",
        message: "delivery",
        outcome: "enqueue_failed",
        status: 503,
        errorCode: "enqueue_failed",
        dedupeKey: payload.eventId,
        id: expect.stringMatching(/^gw_/),
        error: expect.stringContaining("queue unavailable"),
      }),
    ]);
  });

  it("D1 could not keep a quarantined delivery: store_failed, 503", async () => {
    const brokenDb = d1Failing(env.DB, "batch", "D1 unavailable");
    const log = capture();
    const body = bytes("not json");
    const response = await callGateway(webhookRequest("nova", body, signedHeaders("nova", body, NOW_S)), {
      env: { ...env, DB: brokenDb } as Env,
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: "store_failed", message: "the delivery could not be stored; retry" },
    });
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: "error",
        message: "delivery",
        outcome: "store_failed",
        status: 503,
        errorCode: "store_failed",
        error: expect.stringContaining("D1 unavailable"),
      }),
    ]);
  });
});

describe("a warning when the fast path fails, and none when it works", () => {
  const warnings = (records: Record<string, unknown>[]) => records.filter((record) => record.level === "warn");

  it("kv mode: a lookup that throws is named in a warning, and the delivery is still accepted", async () => {
    const kv = {
      getWithMetadata: async () => {
        throw new Error("kv down");
      },
      put: env.DEDUPE_KV.put.bind(env.DEDUPE_KV),
    } as unknown as KVNamespace;
    const { env: testEnv } = recordingEnv({ DEDUPE_KV: kv, DEDUPE_MODE: "kv" } as Partial<Env>);
    const payload = novaEvent();
    const log = capture();
    expect((await deliver("nova", payload, { env: testEnv })).status).toBe(202);
    expect(warnings(log.records())).toEqual([
      expect.objectContaining({ provider: "nova", dedupeKey: payload.eventId, error: "Error: kv down" }),
    ]);
  });

  it("kv mode: a lookup past its budget is named as such", async () => {
    const hanging = {
      getWithMetadata: () => new Promise(() => {}),
      put: async () => {},
    } as unknown as KVNamespace;
    const { env: testEnv } = recordingEnv({ DEDUPE_KV: hanging, DEDUPE_MODE: "kv" } as Partial<Env>);
    const log = capture();
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(warnings(log.records())).toEqual([
      expect.objectContaining({ error: expect.stringContaining("dedupe lookup took over 1500 ms") }),
    ]);
  });

  // A read that fails once sent, as an outage does, and one refused before it is made.
  const failsOnceSent = {
    prepare: () => ({
      bind: () => ({
        first: async () => {
          throw new Error("D1 read failed");
        },
      }),
    }),
  };
  const throwsAtPrepare = {
    prepare: () => {
      throw new Error("D1 unavailable");
    },
  };
  it.each([
    ["fails", failsOnceSent, "Error: D1 read failed"],
    ["throws", throwsAtPrepare, "Error: D1 unavailable"],
  ])("edge mode: a D1 lookup that %s is named with D1's own error", async (_, failing, error) => {
    const brokenDb = { ...failing, withSession: () => failing } as unknown as D1Database;
    const { env: testEnv } = recordingEnv({ DB: brokenDb, DEDUPE_MODE: "edge" } as Partial<Env>);
    const log = capture();
    expect((await deliver("nova", novaEvent(), { env: testEnv })).status).toBe(202);
    expect(warnings(log.records())).toEqual([expect.objectContaining({ error })]);
  });

  it("kv mode: a mark that fails after the queue took the delivery is warned of; the answer is still 202", async () => {
    const kv = {
      getWithMetadata: env.DEDUPE_KV.getWithMetadata.bind(env.DEDUPE_KV),
      put: async () => {
        throw new Error("kv write limit");
      },
    } as unknown as KVNamespace;
    const { env: testEnv } = recordingEnv({ DEDUPE_KV: kv, DEDUPE_MODE: "kv" } as Partial<Env>);
    const payload = novaEvent();
    const log = capture();
    expect((await deliver("nova", payload, { env: testEnv })).status).toBe(202);
    expect(warnings(log.records())).toEqual([
      expect.objectContaining({ provider: "nova", dedupeKey: payload.eventId, error: "Error: kv write limit" }),
    ]);
  });

  it.each(["kv", "edge"])(
    "%s mode: a new delivery and its retry log their delivery lines and nothing else",
    async (mode) => {
      const { env: testEnv } = recordingEnv({ DEDUPE_MODE: mode } as Partial<Env>);
      const payload = novaEvent();
      const log = capture();
      expect((await deliver("nova", payload, { env: testEnv })).status).toBe(202);
      expect((await deliver("nova", payload, { env: testEnv, ...later(5) })).status).toBe(200);
      expect(log.records().map((record) => [record.level, record.message, record.outcome])).toEqual([
        ["info", "delivery", "accepted"],
        ["info", "delivery", "duplicate"],
      ]);
    },
  );

  it("edge mode: a retry of an event the consumer recorded logs no warning either", async () => {
    const payload = novaEvent();
    await consume([await messageFor("nova", payload)]);
    const { env: testEnv } = recordingEnv({ DEDUPE_MODE: "edge" } as Partial<Env>);
    const log = capture();
    expect((await deliver("nova", payload, { env: testEnv })).status).toBe(200);
    expect(log.records().map((record) => [record.level, record.outcome])).toEqual([["info", "duplicate"]]);
  });
});
