import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { purgeExpired } from "../src/maintenance/retention";
import { RefusalAggregator, type RejectionSummary as Rejection } from "../src/monitor/rejections";
import { callGateway, webhookRequest } from "./support/gateway";
import { meteredD1, newMeter } from "./support/metered";
import { novaEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { type ProviderName, signedHeaders } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

const MINUTE = 60_000;
const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };

async function rejections(window: string, nowMs: number): Promise<Rejection[]> {
  const response = await callGateway(
    new Request(`https://gateway.test/api/rejections?window=${window}`, { headers: auth }),
    {
      nowMs,
    },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { rejections: Rejection[] }).rejections;
}

/** A timer the test fires by hand: the flush interval passes when the test says so. */
function manualTimer() {
  const waiting: { ms: number; fire: () => void }[] = [];
  return {
    sleep: (ms: number) => new Promise<void>((fire) => waiting.push({ ms, fire })),
    waiting: () => waiting.map((w) => w.ms),
    fire: () => {
      for (const w of waiting.splice(0)) w.fire();
    },
  };
}

/** D1 passed through, with every batch and statement it runs counted (and optionally failed). */
function countingD1(db: D1Database) {
  const counts = { batches: 0, statements: [] as number[], fail: false };
  const wrapped = new Proxy(db, {
    get(target, key) {
      if (key === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (counts.fail) throw new Error("D1 unavailable (injected)");
          counts.batches++;
          counts.statements.push(statements.length);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, counts };
}

const body = JSON.stringify(novaEvent());

/** Six kinds of refusal, six (provider, code) keys. */
function refusedRequest(i: number, nowMs: number): Request {
  const nowS = Math.floor(nowMs / 1000);
  const forged = (provider: ProviderName) =>
    webhookRequest(provider, body, signedHeaders(provider, body, nowS, "forged"));
  switch (i % 6) {
    case 0:
      return forged("nova");
    case 1:
      return forged("nuvei");
    case 2:
      return forged("nuvouch");
    case 3:
      return webhookRequest("nova", body, signedHeaders("nova", body, nowS - 412));
    case 4:
      return webhookRequest(`nova${i}`, body, signedHeaders("nova", body, nowS));
    default:
      return webhookRequest("nova", null, {}, "GET");
  }
}
const KEYS = 6;

describe("a flood of refused deliveries", () => {
  it("costs each isolate at most one D1 batch per flush interval, of at most one upsert per (minute, provider, code)", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const timer = manualTimer();
    const refusals = new RefusalAggregator({ intervalMs: 5_000, sleep: timer.sleep });
    const meter = newMeter();
    const { db, counts } = countingD1(meteredD1(env.DB, meter));
    const testEnv = { ...env, DB: db } as Env;
    // Two seconds before a minute boundary, so the flood's counts straddle two minutes.
    const start = Math.ceil(Date.UTC(2026, 5, 1, 9, 0, 0) / MINUTE) * MINUTE - 2_000;
    let clock = start;
    const app = createApp({ now: () => clock, refusals });
    const contexts: ExecutionContext[] = [];
    const send = async (i: number) => {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      const response = await app.fetch(refusedRequest(i, clock), testEnv, ctx);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    };

    // The first refusal after a quiet spell is written at once.
    await send(0);
    await Promise.all(contexts.map(waitOnExecutionContext));
    expect(counts.batches).toBe(1);

    // 1,200 more over four intervals (20 s): each interval is one batch, whatever its size.
    const perInterval = 300;
    for (let interval = 0; interval < 4; interval++) {
      for (let j = 0; j < perInterval; j++) {
        clock = start + interval * 5_000 + Math.floor((j * 5_000) / perInterval);
        await send(1 + interval * perInterval + j);
      }
      // Everything refused in the interval waits on one scheduled flush.
      expect(timer.waiting()).toHaveLength(1);
      expect(counts.batches).toBe(1 + interval);
      clock = start + (interval + 1) * 5_000;
      timer.fire();
      await Promise.all(contexts.splice(0).map(waitOnExecutionContext));
      expect(counts.batches).toBe(2 + interval);
    }

    // The bound: ≤ 1 batch per interval, ≤ (keys × 2 minutes) statements per batch.
    expect(counts.batches).toBe(5);
    for (const size of counts.statements) expect(size).toBeLessThanOrEqual(KEYS * 2);
    const statements = counts.statements.reduce((a, b) => a + b, 0);
    expect(statements).toBeLessThanOrEqual(KEYS * 2 * 5);
    // One row written per upsert: 1,201 refusals cost as many rows as statements, not requests.
    expect(meter.d1RowsWritten).toBeLessThanOrEqual(statements * 2);

    // Nothing was lost on the way: 1,201 refusals, split over the six keys.
    const listed = await rejections("15m", clock);
    expect(listed.reduce((sum, r) => sum + r.count, 0)).toBe(1 + 4 * perInterval);
    expect(listed.map((r) => [r.provider, r.code, r.status]).sort()).toEqual(
      [
        ["nova", "method_not_allowed", 405],
        ["nova", "signature_invalid", 401],
        ["nova", "timestamp_out_of_tolerance", 401],
        ["nuvei", "signature_invalid", 401],
        ["nuvouch", "signature_invalid", 401],
        ["unknown", "unknown_provider", 404],
      ].sort(),
    );
    expect(listed.find((r) => r.code === "timestamp_out_of_tolerance")?.lastReason).toBe("timestamp 412 s old");
    expect(listed.find((r) => r.provider === "nuvei")?.lastReason).toBe("no signature matches");
  });

  it("a failed write keeps the counts for the next flush, and the request is still answered", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const timer = manualTimer();
    const refusals = new RefusalAggregator({ sleep: timer.sleep });
    const { db, counts } = countingD1(env.DB);
    const testEnv = { ...env, DB: db } as Env;
    const at = Date.UTC(2026, 6, 1, 8, 0, 30);
    const app = createApp({ now: () => at, refusals });
    counts.fail = true;
    for (let i = 0; i < 3; i++) {
      const ctx = createExecutionContext();
      const response = await app.fetch(webhookRequest("nova", null, {}, "PUT"), testEnv, ctx);
      expect(response.status).toBe(405);
      timer.fire();
      await waitOnExecutionContext(ctx);
    }
    expect(counts.batches).toBe(0);
    counts.fail = false;
    const ctx = createExecutionContext();
    await app.fetch(webhookRequest("nova", null, {}, "PUT"), testEnv, ctx);
    timer.fire();
    await waitOnExecutionContext(ctx);
    expect(counts.batches).toBe(1);
    expect(await rejections("15m", at)).toContainEqual({
      provider: "nova",
      code: "method_not_allowed",
      status: 405,
      count: 4,
      lastAt: new Date(at).toISOString(),
      lastReason: "method PUT",
    });
  });

  it("replaces one log line per refusal with one summary line per flush; accepted deliveries keep theirs", async () => {
    const lines: string[] = [];
    // Every console level, so a leak at a level the gateway does not use today is still seen.
    for (const level of ["log", "info", "debug", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const timer = manualTimer();
    const refusals = new RefusalAggregator({ sleep: timer.sleep });
    const at = Date.UTC(2026, 6, 2, 8, 0, 0);
    const app = createApp({ now: () => at, refusals });
    const payload = novaEvent({ data: { cardHolder: "SECRET-CARDHOLDER-NAME" } });
    const signed = JSON.stringify(payload);
    const headers = signedHeaders("nova", signed, at / 1000);
    const forgedHeader = signedHeaders("nova", signed, at / 1000, "forged")["x-nova-signature"] as string;
    const contexts: ExecutionContext[] = [];
    const send = async (request: Request) => {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      return app.fetch(request, env, ctx);
    };
    expect((await send(webhookRequest("nova", signed, headers))).status).toBe(202);
    for (let i = 0; i < 4; i++) {
      const response = await send(webhookRequest("nova", signed, { ...headers, "x-nova-signature": forgedHeader }));
      expect(response.status).toBe(401);
    }
    timer.fire();
    await Promise.all(contexts.map(waitOnExecutionContext));

    const records = lines.map((line) => JSON.parse(line));
    expect(records.map((r) => r.message)).toEqual(["delivery", "deliveries refused", "deliveries refused"]);
    expect(records[0]).toMatchObject({ provider: "nova", outcome: "accepted", status: 202 });
    // The first refusal is written at once; the other three wait for the interval, together.
    expect(records.slice(1).map((r) => r.total)).toEqual([1, 3]);
    expect(records[2].refusals).toEqual([
      { provider: "nova", code: "signature_invalid", status: 401, count: 3, lastReason: "no signature matches" },
    ]);
    const all = lines.join("\n");
    for (const leaked of [TEST_SECRETS.NOVA_WEBHOOK_SECRET, forgedHeader, "SECRET-CARDHOLDER-NAME", "v1="]) {
      expect(all).not.toContain(leaked);
    }
  });
});

describe("what is counted", () => {
  it("every 4xx of a webhook route, with a reason; accepted deliveries are not", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const at = Date.UTC(2026, 7, 1, 12, 0, 0);
    const nowS = at / 1000;
    const send = (request: Request) => callGateway(request, { nowMs: at });
    const signed = JSON.stringify(novaEvent());
    expect((await send(webhookRequest("nova", signed, signedHeaders("nova", signed, nowS)))).status).toBe(202);
    expect((await send(webhookRequest("nova", signed, { "content-type": "application/json" }))).status).toBe(401);
    expect(
      (
        await send(
          webhookRequest("nova", "{}", {
            "content-type": "application/json",
            "content-length": String(4 * 1024 * 1024),
          }),
        )
      ).status,
    ).toBe(413);
    // An unknown path is counted under `unknown`, its name cut short and made printable.
    const odd = `%0A%E2%9C%93${"x".repeat(40)}`;
    expect((await send(webhookRequest(odd, signed, {}))).status).toBe(404);
    // A signed delivery from outside Nova's allowlist: 403 before its signature is checked.
    const outside = await callGateway(
      webhookRequest("nova", signed, { ...signedHeaders("nova", signed, nowS), "cf-connecting-ip": "198.51.100.7" }),
      { nowMs: at, env: { ...env, NOVA_ALLOWED_IPS: "203.0.113.0/24" } as Env },
    );
    expect(outside.status).toBe(403);

    const listed = await rejections("15m", at);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ provider: "nova", code: "signature_missing", status: 401, count: 1 }),
        expect.objectContaining({
          provider: "nova",
          code: "payload_too_large",
          status: 413,
          lastReason: "body over 1048576 bytes",
        }),
        {
          provider: "unknown",
          code: "unknown_provider",
          status: 404,
          count: 1,
          lastAt: new Date(at).toISOString(),
          lastReason: `no provider "??${"x".repeat(30)}"`,
        },
        {
          provider: "nova",
          code: "source_not_allowed",
          status: 403,
          count: 1,
          lastAt: new Date(at).toISOString(),
          lastReason: expect.stringMatching(/^source 198\.51\.100\.7 not in the allowlist$/),
        },
      ]),
    );
    expect(listed.reduce((sum, r) => sum + r.count, 0)).toBe(4);
  });

  it("isolates add to one row: counts sum, the latest refusal's reason and time win", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const at = Date.UTC(2026, 8, 1, 12, 0, 0);
    const a = new RefusalAggregator({ sleep: async () => {} });
    const b = new RefusalAggregator({ sleep: async () => {} });
    const refusal = (reason: string) => ({ provider: "nuvei", code: "signature_invalid", status: 401, reason });
    a.record(env.DB, refusal("newer"), at + 20_000);
    b.record(env.DB, refusal("older"), at + 10_000);
    await a.flush(env.DB, at + 20_000);
    await b.flush(env.DB, at + 20_000);
    expect(await rejections("15m", at + 30_000)).toEqual([
      {
        provider: "nuvei",
        code: "signature_invalid",
        status: 401,
        count: 2,
        lastAt: new Date(at + 20_000).toISOString(),
        lastReason: "newer",
      },
    ]);
  });
});

describe("GET /api/rejections", () => {
  const at = Date.UTC(2026, 9, 1, 12, 0, 0);
  const seed = (minutesAgo: number, count: number) =>
    env.DB.prepare(
      "INSERT INTO rejections (minute, provider, code, status, count, last_at, last_reason) VALUES (?, 'nova', 'signature_invalid', 401, ?, ?, ?)",
    )
      .bind(
        Math.floor(at / MINUTE) - minutesAgo,
        count,
        new Date(at - minutesAgo * MINUTE).toISOString(),
        `${minutesAgo} min ago`,
      )
      .run();

  it("sums the window's minutes: 15m, 1h (the default) and 24h", async () => {
    await seed(0, 1);
    await seed(14, 2);
    await seed(45, 4);
    await seed(23 * 60, 8);
    await seed(25 * 60, 16);
    const total = async (window: string) => (await rejections(window, at)).reduce((sum, r) => sum + r.count, 0);
    expect(await total("15m")).toBe(3);
    expect(await total("1h")).toBe(7);
    expect(await total("24h")).toBe(15);
    const response = await callGateway(new Request("https://gateway.test/api/rejections", { headers: auth }), {
      nowMs: at,
    });
    expect(await response.json()).toEqual({
      rejections: [
        {
          provider: "nova",
          code: "signature_invalid",
          status: 401,
          count: 7,
          lastAt: new Date(at).toISOString(),
          lastReason: "0 min ago",
        },
      ],
    });
  });

  it("the daily purge drops counts older than two days", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const later = at + 30 * 1440 * MINUTE;
    const insert = env.DB.prepare(
      "INSERT INTO rejections (minute, provider, code, status, count, last_at, last_reason) VALUES (?, 'nuvouch', ?, 401, 1, '', NULL)",
    );
    const minute = Math.floor(later / MINUTE);
    await env.DB.batch([insert.bind(minute - 2 * 1440 - 1, "purged"), insert.bind(minute - 2 * 1440, "kept")]);
    await purgeExpired(env.DB, { nowMs: later, eventRetentionDays: undefined });
    const { results } = await env.DB.prepare("SELECT code FROM rejections WHERE provider = 'nuvouch'").all<{
      code: string;
    }>();
    expect(results.map((r) => r.code)).toEqual(["kept"]);
  });

  it("400 for another window, 401 without the token, in the one error shape", async () => {
    const bad = await callGateway(new Request("https://gateway.test/api/rejections?window=7d", { headers: auth }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_query" } });
    const anonymous = await callGateway(new Request("https://gateway.test/api/rejections"));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthorized" } });
  });
});
