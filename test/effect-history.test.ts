import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { effectDetails } from "../src/admin/effect-detail";
import { readSnippet } from "../src/effects/forward";
import { EffectRegistry } from "../src/effects/registry";
import { consume, messageFor } from "./support/consumer";
import { callGateway, NOW_MS } from "./support/gateway";
import { novaEvent } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";

afterEach(() => vi.restoreAllMocks());

/** One effect of `GET /api/events/:id`, as the gateway builds it. */
type EffectDetail = Awaited<ReturnType<typeof effectDetails>>[number];

async function effectsOf(id: string): Promise<EffectDetail[]> {
  const response = await callGateway(
    new Request(`https://gateway.test/api/events/${id}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
    }),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { effects: EffectDetail[] }).effects;
}

const forwardEnv = (path: string) =>
  ({ ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}${path}`, FORWARD_TIMEOUT_MS: "300" }) as Env;
const iso = (ms: number) => new Date(ms).toISOString();

/** A nova effect that fails while `failing` is true. */
function switchableRegistry() {
  const state = { failing: true, runs: 0 };
  const registry = new EffectRegistry().on("nova:payment.failed", "notify-ops", () => {
    state.runs++;
    if (state.failing) throw new Error("pager unavailable");
  });
  return { registry, state };
}

describe("forward attempt history", () => {
  it("a forward that failed then succeeded shows both attempts, with status, body and target", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const message = await messageFor("nova", novaEvent());
    const first = await consume([message], { env: forwardEnv("/fail"), nowMs: NOW_MS });
    expect(first.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });

    const [waiting] = await effectsOf(message.id);
    expect(waiting).toMatchObject({ name: "forward", status: "failed", nextRetryAt: iso(NOW_MS + 10_000) });

    await consume([message], { env: forwardEnv("/ok?token=s3cret"), attempts: 2, nowMs: NOW_MS + 10_000 });
    const [effect] = await effectsOf(message.id);
    expect(effect).toEqual({
      id: `forward:${message.id}`,
      name: "forward",
      status: "done",
      attempts: 2,
      lastError: null,
      nextRetryAt: null,
      history: [
        {
          at: iso(NOW_MS),
          outcome: "failed",
          error: "effect forward: forward target answered 500",
          durationMs: expect.any(Number),
          httpStatus: 500,
          responseBody: "boom",
          target: `${env.FORWARD_SINK_URL}/fail`,
        },
        {
          at: iso(NOW_MS + 10_000),
          outcome: "done",
          durationMs: expect.any(Number),
          httpStatus: 200,
          responseBody: "ok",
          // The query (a receiver's token) stays out of the history.
          target: `${env.FORWARD_SINK_URL}/ok`,
        },
      ],
    });
  });

  it("a target that hangs is a timeout, with no status, and its retry time", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const message = await messageFor("nova", novaEvent());
    const result = await consume([message], { env: forwardEnv("/hang"), attempts: 3, nowMs: NOW_MS });
    expect(result.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 40 });
    const [effect] = await effectsOf(message.id);
    expect(effect?.nextRetryAt).toBe(iso(NOW_MS + 40_000));
    expect(effect?.history).toEqual([
      {
        at: iso(NOW_MS),
        outcome: "timeout",
        error: expect.stringMatching(/timed out/),
        durationMs: expect.any(Number),
        target: `${env.FORWARD_SINK_URL}/hang`,
      },
    ]);
  });

  it("keeps only the first 512 bytes of a response body, never half a character", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const message = await messageFor("nova", novaEvent());
    await consume([message], { env: forwardEnv("/big") });
    const [effect] = await effectsOf(message.id);
    const body = effect?.history[0]?.responseBody ?? "";
    expect(effect?.history[0]?.httpStatus).toBe(502);
    // "a" and 255 "é" are 511 bytes; the 256th "é" would straddle the limit.
    expect(body).toBe(`a${"é".repeat(255)}`);
  });

  it("reads a snippet without waiting for the rest of a body that never ends", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("x".repeat(600)));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await readSnippet(endless, 512)).toBe("x".repeat(512));
    expect(cancelled).toBe(true);
  });
});

describe("effect attempt history", () => {
  it("keeps the last 20 attempts, newest last", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { registry } = switchableRegistry();
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    for (let attempt = 1; attempt <= 25; attempt++) {
      await consume([message], { registry, attempts: attempt, nowMs: NOW_MS + attempt * 1000 });
    }
    const [effect] = await effectsOf(message.id);
    expect(effect?.attempts).toBe(25);
    expect(effect?.history).toHaveLength(20);
    expect(effect?.history.map((a) => a.at)).toEqual(
      Array.from({ length: 20 }, (_, i) => iso(NOW_MS + (i + 6) * 1000)),
    );
    // A handler's own effect records no HTTP details.
    expect(Object.keys(effect?.history[0] ?? {}).sort()).toEqual(["at", "durationMs", "error", "outcome"]);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM effect_attempts WHERE effect_id = ?")
      .bind(effect?.id)
      .first<number>("n");
    expect(rows).toBe(20);
  });

  it("a replay appends to the history of a dead effect and never erases it", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { registry, state } = switchableRegistry();
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    await consume([message], { registry, attempts: 1, nowMs: NOW_MS });
    await consume([message], { registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    await consume([message], { queue: "webhook-events-dlq", nowMs: NOW_MS + 30_000 });
    const [dead] = await effectsOf(message.id);
    expect(dead).toMatchObject({ status: "dead", nextRetryAt: null });
    expect(dead?.history.map((a) => a.outcome)).toEqual(["failed", "failed"]);

    state.failing = false;
    await consume([{ ...message, replay: true }], { registry, nowMs: NOW_MS + 60_000 });
    const [revived] = await effectsOf(message.id);
    expect(revived).toMatchObject({ status: "done", attempts: 3, nextRetryAt: null });
    expect(revived?.history.map((a) => [a.outcome, a.at])).toEqual([
      ["failed", iso(NOW_MS)],
      ["failed", iso(NOW_MS + 10_000)],
      ["done", iso(NOW_MS + 60_000)],
    ]);
    expect(revived?.history[0]?.error).toBe("effect notify-ops: pager unavailable");
  });

  it("records a failure to find the handler as an attempt", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { registry } = switchableRegistry();
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    await consume([message], { registry, nowMs: NOW_MS });
    // The same ledger row, now run by a deployment that no longer has the handler.
    await consume([message], { registry: new EffectRegistry(), attempts: 2, nowMs: NOW_MS + 10_000 });
    const [effect] = await effectsOf(message.id);
    expect(effect?.history.map((a) => [a.outcome, a.error])).toEqual([
      ["failed", "effect notify-ops: pager unavailable"],
      ["failed", "no effect handler named notify-ops"],
    ]);
  });
});
