// What an operator reads for each refused delivery (GET /api/rejections): the code, the status and a
// reason that names the mistake, for the refusals the broader tests count but do not explain.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isRefusal } from "../src/ingest/refusals";
import { RefusalAggregator, type RejectionSummary as Rejection } from "../src/monitor/rejections";
import { d1With } from "./support/faults";
import { callGateway, deliver, webhookRequest } from "./support/gateway";
import { novaEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { signedHeaders } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

const DAY = 86_400_000;
const auth = { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` };
let day = 0;
/** A time no other test of this file refuses at, so each reads only its own counts. */
const freshTime = () => Date.UTC(2027, 0, 1, 12, 0, 0) + ++day * DAY;

async function refusalsAt(nowMs: number): Promise<Rejection[]> {
  const response = await callGateway(new Request("https://gateway.test/api/rejections?window=15m", { headers: auth }), {
    nowMs,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { rejections: Rejection[] }).rejections;
}

const quiet = () => vi.spyOn(console, "warn").mockImplementation(() => {});

describe("a 4xx of the webhook route is a refusal, and nothing else is", () => {
  it.each([
    [399, false],
    [400, true],
    [413, true],
    [499, true],
    [500, false],
    [503, false],
  ])("status %i: %s", (status, refused) => {
    expect(isRefusal(status)).toBe(refused);
  });
});

describe("each refusal says why", () => {
  it("a provider whose secret is unset: 401 signature_invalid, 'secret not configured', and logged once", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    const at = freshTime();
    const unset = { ...env, NOVA_WEBHOOK_SECRET: " , " } as Env;
    for (let i = 0; i < 2; i++) {
      const response = await deliver("nova", novaEvent(), { env: unset, nowMs: at, signedAt: at / 1000 });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: expect.objectContaining({ code: "signature_invalid" }) });
    }
    expect(await refusalsAt(at)).toEqual([
      expect.objectContaining({
        provider: "nova",
        code: "signature_invalid",
        status: 401,
        count: 2,
        lastReason: "secret not configured",
      }),
    ]);
    // docs/contract.md §1: the reason is logged once, not once per delivery.
    const warnings = lines.map((line) => JSON.parse(line)).filter((r) => r.message !== "deliveries refused");
    expect(warnings).toEqual([
      expect.objectContaining({ level: "warn", provider: "nova", binding: "NOVA_WEBHOOK_SECRET" }),
    ]);
  });

  it("a malformed allowlist: 403 source_not_allowed, naming the entry it could not read", async () => {
    quiet();
    const at = freshTime();
    const body = JSON.stringify(novaEvent());
    const response = await callGateway(
      webhookRequest("nova", body, { ...signedHeaders("nova", body, at / 1000), "cf-connecting-ip": "203.0.113.7" }),
      { nowMs: at, env: { ...env, NOVA_ALLOWED_IPS: "203.0.113.0/24 203.0.113.0/99" } as Env },
    );
    expect(response.status).toBe(403);
    expect(await refusalsAt(at)).toEqual([
      {
        provider: "nova",
        code: "source_not_allowed",
        status: 403,
        count: 1,
        lastAt: new Date(at).toISOString(),
        lastReason: "not a CIDR range: 203.0.113.0/99",
      },
    ]);
  });

  it("a source outside the allowlist is named, cut at 45 characters (the longest address)", async () => {
    quiet();
    const at = freshTime();
    const body = JSON.stringify(novaEvent());
    const source = `${"a".repeat(45)}${"b".repeat(55)}`;
    const response = await callGateway(
      webhookRequest("nova", body, { ...signedHeaders("nova", body, at / 1000), "cf-connecting-ip": source }),
      { nowMs: at, env: { ...env, NOVA_ALLOWED_IPS: "203.0.113.0/24" } as Env },
    );
    expect(response.status).toBe(403);
    expect(await refusalsAt(at)).toEqual([
      expect.objectContaining({
        code: "source_not_allowed",
        lastReason: `source ${"a".repeat(45)} not in the allowlist`,
      }),
    ]);
  });

  it("an unknown path keeps the printable ASCII of its name, space and tilde included, and marks the rest", async () => {
    quiet();
    const at = freshTime();
    // Decoded by the router: " ", "~" (the ends of printable ASCII), then US and DEL (just outside it).
    const response = await callGateway(webhookRequest("a%20b~c%1Fd%7Fe", "{}", {}), { nowMs: at });
    expect(response.status).toBe(404);
    expect(await refusalsAt(at)).toEqual([
      expect.objectContaining({ provider: "unknown", code: "unknown_provider", lastReason: 'no provider "a b~c?d?e"' }),
    ]);
  });
});

describe("a refusal's count is written before its request is done", () => {
  it("the execution context waits for the write, even when D1 is slow", async () => {
    quiet();
    const at = freshTime();
    // A slow D1 (the injected fault): every batch takes 200 ms longer.
    const slow = d1With(env.DB, "batch", (real) => async (statements: D1PreparedStatement[]) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return real.batch(statements);
    });
    const refusals = new RefusalAggregator({ sleep: async () => {} });
    const response = await callGateway(webhookRequest("nova", null, {}, "GET"), {
      nowMs: at,
      env: { ...env, DB: slow } as Env,
      refusals,
    });
    expect(response.status).toBe(405);
    // Read straight from D1 the moment the request is done, before anything else could flush it.
    const row = await env.DB.prepare("SELECT code, count, last_reason AS reason FROM rejections WHERE minute = ?")
      .bind(Math.floor(at / 60_000))
      .first();
    expect(row).toEqual({ code: "method_not_allowed", count: 1, reason: "method GET" });
  });
});
