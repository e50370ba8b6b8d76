import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callGateway, NOW_MS } from "./support/gateway";
import { TEST_SECRETS } from "./support/secrets";

const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };
const stats = (query: string, headers: Record<string, string> = auth, testEnv: Env = env) =>
  callGateway(new Request(`https://gateway.test/api/stats${query}`, { headers }), { env: testEnv });

interface Stats {
  window: string;
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: { start: string; provider: string; total: number; retrying: number; dead: number; quarantined: number }[];
  providers: { provider: string; total: number; retrying: number; dead: number; failureRate: number }[];
}

// A day no other test file writes to, so the counts below are exact.
const rows: [provider: string, status: string, receivedAt: string][] = [
  ["nova", "processed", "2026-03-01T10:00:05.000Z"],
  ["nova", "processed", "2026-03-01T10:00:40.000Z"],
  ["nova", "dead", "2026-03-01T10:00:59.999Z"],
  ["nuvei", "retrying", "2026-03-01T10:01:00.000Z"],
  ["nova", "processed", "2026-03-01T10:07:30.000Z"],
  ["nuvouch", "processed", "2026-03-01T10:59:59.000Z"],
  ["nuvouch", "quarantined", "2026-03-01T10:59:30.000Z"],
  // Outside a one-hour window ending at 11:00.
  ["nova", "dead", "2026-03-01T09:59:59.999Z"],
  ["nova", "dead", "2026-03-01T11:00:00.000Z"],
];

beforeAll(async () => {
  await env.DB.batch(
    rows.map(([provider, status, receivedAt], i) =>
      env.DB.prepare(
        `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                             received_at, occurred_at, updated_at)
         VALUES (?, ?, ?, 'stats.test', '{}', ?, 1, NULL, ?, NULL, ?)`,
      ).bind(`gw_stats_${i}`, provider, `stats_${i}`, status, receivedAt, receivedAt),
    ),
  );
});

describe("GET /api/stats", () => {
  it("counts events per provider and minute, with the failure rate, over the window", async () => {
    const response = await stats("?window=1h&end=2026-03-01T11:00:00.000Z");
    expect(response.status).toBe(200);
    const body = (await response.json()) as Stats;
    expect(body).toMatchObject({
      window: "1h",
      from: "2026-03-01T10:00:00.000Z",
      to: "2026-03-01T11:00:00.000Z",
      bucketSeconds: 60,
    });
    expect(body.buckets).toEqual([
      { start: "2026-03-01T10:00:00.000Z", provider: "nova", total: 3, retrying: 0, dead: 1, quarantined: 0 },
      { start: "2026-03-01T10:01:00.000Z", provider: "nuvei", total: 1, retrying: 1, dead: 0, quarantined: 0 },
      { start: "2026-03-01T10:07:00.000Z", provider: "nova", total: 1, retrying: 0, dead: 0, quarantined: 0 },
      { start: "2026-03-01T10:59:00.000Z", provider: "nuvouch", total: 2, retrying: 0, dead: 0, quarantined: 1 },
    ]);
    expect(body.providers).toEqual([
      { provider: "nova", total: 4, retrying: 0, dead: 1, quarantined: 0, failureRate: 0.25 },
      { provider: "nuvei", total: 1, retrying: 1, dead: 0, quarantined: 0, failureRate: 1 },
      { provider: "nuvouch", total: 2, retrying: 0, dead: 0, quarantined: 1, failureRate: 0 },
    ]);
  });

  it("rounds the end up to a whole bucket and widens buckets for long windows", async () => {
    const short = (await (await stats("?window=15m&end=2026-03-01T10:07:30.000Z")).json()) as Stats;
    expect(short).toMatchObject({ from: "2026-03-01T09:53:00.000Z", to: "2026-03-01T10:08:00.000Z" });
    expect(short.buckets.map((b) => b.start)).toEqual([
      "2026-03-01T09:59:00.000Z",
      "2026-03-01T10:00:00.000Z",
      "2026-03-01T10:01:00.000Z",
      "2026-03-01T10:07:00.000Z",
    ]);

    const day = (await (await stats("?window=24h&end=2026-03-01T12:00:00.000Z")).json()) as Stats;
    expect(day.bucketSeconds).toBe(900);
    expect(day.buckets.filter((b) => b.provider === "nova")).toEqual([
      { start: "2026-03-01T09:45:00.000Z", provider: "nova", total: 1, retrying: 0, dead: 1, quarantined: 0 },
      { start: "2026-03-01T10:00:00.000Z", provider: "nova", total: 4, retrying: 0, dead: 1, quarantined: 0 },
      { start: "2026-03-01T11:00:00.000Z", provider: "nova", total: 1, retrying: 0, dead: 1, quarantined: 0 },
    ]);
  });

  it("lists every provider, at zero, in an empty window", async () => {
    const body = (await (await stats("?window=15m&end=2020-01-01T00:00:00.000Z")).json()) as Stats;
    expect(body.buckets).toEqual([]);
    expect(body.providers.map((p) => [p.provider, p.total, p.failureRate])).toEqual([
      ["nova", 0, 0],
      ["nuvei", 0, 0],
      ["nuvouch", 0, 0],
    ]);
  });

  it("defaults to the last hour up to now (the gateway's clock), in whole minutes", async () => {
    const body = (await (await stats("")).json()) as Stats;
    expect(body.window).toBe("1h");
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3_600_000);
    expect(Date.parse(body.to)).toBe(Math.ceil(NOW_MS / 60_000) * 60_000);
  });

  it.each([["window=2h"], ["window="], ["end=yesterday"], ["end=2026-03-01"]])("400 for %s", async (query) => {
    const response = await stats(`?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_query" } });
  });

  it("is behind the operator token", async () => {
    expect((await stats("", {})).status).toBe(401);
    expect((await stats("", { authorization: "Bearer nope" })).status).toBe(401);
    expect((await stats("", auth, { ...env, ADMIN_API_TOKEN: "" } as Env)).status).toBe(503);
  });
});
