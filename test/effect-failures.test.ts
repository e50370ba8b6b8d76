// How a failing effect is reported: the error the ledger, the event and the attempt history keep, and
// how long the message waits before its retry.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EffectRegistry, RetryLaterError } from "../src/effects/registry";
import { consume, effectRows, eventRow, hangingRegistry, messageFor } from "./support/consumer";
import { NOW_MS } from "./support/gateway";
import { novaEvent } from "./support/payloads";

afterEach(() => vi.restoreAllMocks());

const quiet = () => vi.spyOn(console, "warn").mockImplementation(() => {});

async function attemptErrors(effectId: string) {
  const { results } = await env.DB.prepare(
    "SELECT attempt, outcome, error FROM effect_attempts WHERE effect_id = ? ORDER BY attempt",
  )
    .bind(effectId)
    .all();
  return results;
}

describe("the error an effect leaves", () => {
  it("a handler that throws something other than an Error is recorded by its text", async () => {
    quiet();
    const registry = new EffectRegistry().on("nova:payment.failed", "pager", () => {
      throw "pager offline";
    });
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    const result = await consume([message], { registry });
    expect(result.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "failed", last_error: "effect pager: pager offline" }),
    ]);
    expect(await eventRow(message.id)).toMatchObject({ status: "retrying", last_error: "effect pager: pager offline" });
  });

  it("a long error is cut to 500 characters wherever it is kept", async () => {
    quiet();
    const registry = new EffectRegistry().on("nova:payment.failed", "chatty", () => {
      throw new Error("x".repeat(2000));
    });
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    await consume([message], { registry });
    const expected = `effect chatty: ${"x".repeat(500 - "effect chatty: ".length)}`;
    expect(expected).toHaveLength(500);
    expect(await effectRows({ eventId: message.id })).toEqual([expect.objectContaining({ last_error: expected })]);
    expect(await eventRow(message.id)).toMatchObject({ last_error: expected });
    expect(await attemptErrors(`${message.id}:chatty`)).toEqual([{ attempt: 1, outcome: "failed", error: expected }]);
  });

  it("an effect that succeeds records an attempt without an error", async () => {
    const registry = new EffectRegistry().on("nova:payment.failed", "fine", () => {});
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([message], { registry })).acked).toHaveLength(1);
    expect(await attemptErrors(`${message.id}:fine`)).toEqual([{ attempt: 1, outcome: "done", error: null }]);
  });

  it("two failing effects: the event names both, in the ledger's order, and both are retried", async () => {
    quiet();
    let runs = 0;
    const registry = new EffectRegistry()
      .on("nova:payment.failed", "b-second", () => {
        runs++;
        throw new Error("two");
      })
      .on("nova:payment.failed", "a-first", () => {
        runs++;
        throw new Error("one");
      });
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    const result = await consume([message], { registry });
    expect(result.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(runs).toBe(2);
    expect(await eventRow(message.id)).toMatchObject({
      status: "retrying",
      last_error: "effect a-first: one; effect b-second: two",
    });
  });

  it("one effect failing does not keep the others of its event from running, and only it runs again", async () => {
    quiet();
    const runs: string[] = [];
    let failing = true;
    const registry = new EffectRegistry()
      .on("nova:payment.failed", "a-flaky", () => {
        runs.push("a-flaky");
        if (failing) throw new Error("not yet");
      })
      .on("nova:payment.failed", "b-steady", () => void runs.push("b-steady"));
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    await consume([message], { registry });
    expect(runs).toEqual(["a-flaky", "b-steady"]);
    failing = false;
    const retried = await consume([message], { registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(retried.acked).toHaveLength(1);
    expect(runs).toEqual(["a-flaky", "b-steady", "a-flaky"]);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", last_error: null });
  });
});

describe("when the message comes back", () => {
  const later = (name: string, seconds: number) => () => {
    throw new RetryLaterError(`${name} asked for ${seconds} s`, seconds);
  };

  it("two effects asking to come back later: the message waits for the later of the two", async () => {
    quiet();
    const registry = new EffectRegistry()
      .on("nova:payment.failed", "a-slow", later("a", 300))
      .on("nova:payment.failed", "b-quick", later("b", 30));
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([message], { registry })).outcomeOf(0)).toEqual({ retried: true, delaySeconds: 300 });

    const reversed = new EffectRegistry()
      .on("nova:payment.failed", "a-quick", later("a", 30))
      .on("nova:payment.failed", "b-slow", later("b", 300));
    const other = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([other], { registry: reversed })).outcomeOf(0)).toEqual({
      retried: true,
      delaySeconds: 300,
    });
  });

  it("an ordinary failure beside a come-back-later keeps the requested wait", async () => {
    quiet();
    const registry = new EffectRegistry()
      .on("nova:payment.failed", "a-broken", () => {
        throw new Error("broken");
      })
      .on("nova:payment.failed", "b-later", later("b", 90));
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([message], { registry })).outcomeOf(0)).toEqual({ retried: true, delaySeconds: 90 });
  });

  it("a come-back-later shorter than the backoff waits the backoff", async () => {
    quiet();
    const registry = new EffectRegistry().on("nova:payment.failed", "soon", later("soon", 5));
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([message], { registry, attempts: 3 })).outcomeOf(0)).toEqual({
      retried: true,
      delaySeconds: 40,
    });
  });
});

describe("an effect another attempt still holds", () => {
  it("waits out the lease: not run, still failed, and the event says why", async () => {
    quiet();
    const { registry, runs } = hangingRegistry();
    const message = await messageFor("nova", novaEvent({ type: "dma.session.started" }));
    const slowEnv = { ...env, EFFECT_TIMEOUT_MS: "50" } as Env;
    await consume([message], { env: slowEnv, registry });

    const held = await consume([message], { env: slowEnv, registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(held.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 20 });
    expect(runs.started).toBe(1);
    expect(await eventRow(message.id)).toMatchObject({
      status: "retrying",
      last_error: "effect slow is running elsewhere",
    });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "failed", attempts: 1, lease_until: expect.any(Number) }),
    ]);
  });

  it("a retry's claim leases the effect too: a redelivery while it may still run does not run it again", async () => {
    quiet();
    let calls = 0;
    const registry = new EffectRegistry().on("nova:dma.session.started", "flaky-then-slow", () => {
      calls++;
      if (calls === 1) throw new Error("first attempt refused");
      return new Promise<void>(() => {}); // the second attempt outlives its timeout
    });
    const message = await messageFor("nova", novaEvent({ type: "dma.session.started" }));
    const slowEnv = { ...env, EFFECT_TIMEOUT_MS: "50" } as Env;
    await consume([message], { env: slowEnv, registry });
    // The first failure let go of its lease: the retry claims the effect and runs it.
    await consume([message], { env: slowEnv, registry, attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(calls).toBe(2);
    await consume([message], { env: slowEnv, registry, attempts: 3, nowMs: NOW_MS + 20_000 });
    expect(calls).toBe(2);
    await consume([message], { env: slowEnv, registry, attempts: 4, nowMs: NOW_MS + 10_000 + 3 * 60_000 });
    expect(calls).toBe(3);
  });
});

describe("an effect whose handler is gone", () => {
  it("keeps its event retrying, and the event says which", async () => {
    quiet();
    const registry = new EffectRegistry().on("nova:payment.failed", "retired", () => {
      throw new Error("down");
    });
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    await consume([message], { registry });
    // A deployment that no longer has the handler.
    const later = await consume([message], { registry: new EffectRegistry(), attempts: 2, nowMs: NOW_MS + 10_000 });
    expect(later.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 20 });
    expect(await eventRow(message.id)).toMatchObject({
      status: "retrying",
      last_error: "no effect handler named retired",
    });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "failed", attempts: 2, last_error: "no effect handler named retired" }),
    ]);
  });
});
