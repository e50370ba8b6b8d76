// The consumer's less common paths: payloads parked in D1, bodies whose bytes are not the payload's,
// replays, and what each costs.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EffectRegistry } from "../src/effects/registry";
import { consume, countingRegistry, effectRows, eventRow, messageFor } from "./support/consumer";
import { callGateway, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { meteredD1, newMeter } from "./support/metered";
import { novaEvent, nuvouchApprovalEvent, uniqueId } from "./support/payloads";
import { sha256HexNode, signedHeaders } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

async function park(id: string, payload: string) {
  await env.DB.prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES (?, ?, 0)").bind(id, payload).run();
}

const parked = async (id: string) =>
  (await env.DB.prepare("SELECT 1 AS one FROM payload_blobs WHERE id = ?").bind(id).first("one")) !== null;

/** A message as ingest queues a payload too large to travel inline: a reference to its parked copy. */
async function parkedMessage(payload: Record<string, unknown>) {
  const message = await messageFor("nova", payload);
  const { payload: text, ...reference } = message;
  await park(message.id, text as string);
  return { message, reference: { ...reference, payloadRef: message.id }, text: text as string };
}

describe("payloads parked in D1", () => {
  it("a parked event redelivered after its copy was consumed runs its owed effect from the recorded payload", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const seen: unknown[] = [];
    let failing = true;
    const registry = new EffectRegistry().on("nova:payment.failed", "notify", (ctx) => {
      seen.push(ctx.payload);
      if (failing) throw new Error("not yet");
    });
    const payload = novaEvent({ type: "payment.failed", data: { note: uniqueId("parked") } });
    const { message, reference, text } = await parkedMessage(payload);
    const first = await consume([reference], { registry });
    expect(first.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(await parked(message.id)).toBe(false);

    // The same message again (as the queue redelivers it), its parked copy gone: the event's row holds it.
    failing = false;
    const again = await consume([reference], { registry, attempts: 2 });
    expect(again.acked).toHaveLength(1);
    expect(seen).toEqual([payload, payload]);
    expect(await eventRow(message.id)).toMatchObject({
      status: "processed",
      payload: text,
      body_sha256: sha256HexNode(text),
    });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ status: "done", attempts: 2 }),
    ]);
  });

  it("a parked message whose copy and event are both gone is retried, not acked", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const message = await messageFor("nova", novaEvent());
    const { payload: _inline, ...reference } = message;
    const result = await consume([{ ...reference, payloadRef: message.id }]);
    expect(result.outcomeOf(0)).toEqual({ retried: true, delaySeconds: 10 });
    expect(await eventRow(message.id)).toBeNull();
  });

  it("a conflicting body parked in D1 is counted, never applied, and its parked copy removed", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const first = novaEvent();
    await consume([await messageFor("nova", first)]);
    const other = { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId };
    const { message, reference, text } = await parkedMessage(other);
    const result = await consume([{ ...reference, bodySha256: sha256HexNode(text) }]);
    expect(result.acked).toHaveLength(1);
    expect(await parked(message.id)).toBe(false);
    expect(await eventRow(message.id)).toMatchObject({
      type: first.type,
      conflict_count: 1,
      last_conflict_sha256: sha256HexNode(text),
    });
  });

  it("a conflicting inline body is counted without touching any parked payload", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const first = novaEvent();
    const recorded = await messageFor("nova", first);
    await consume([recorded]);
    // An unrelated parked payload under the same id must survive a conflict that carried none.
    await park(recorded.id, "unrelated");
    const other = await messageFor("nova", { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId });
    const result = await consume([{ ...other, bodySha256: sha256HexNode(other.payload as string) }]);
    expect(result.acked).toHaveLength(1);
    expect(await parked(recorded.id)).toBe(true);
    expect(await eventRow(recorded.id)).toMatchObject({ conflict_count: 1 });
  });
});

describe("the body's hash is the delivered bytes'", () => {
  it("a Nuvei form body is recorded with the hash of its bytes, and its redelivery is no conflict", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const transactionId = `7${String(Date.now()).padStart(18, "0")}`;
    const body = `transactionId=${transactionId}&result.status=approved&currency=USD&amount=10.50`;
    const headers = { ...signedHeaders("nuvei", body, NOW_S), "content-type": "application/x-www-form-urlencoded" };
    expect((await callGateway(webhookRequest("nuvei", body, headers), { env: testEnv })).status).toBe(202);
    const [message] = sent as { id: string; payload: string }[];
    if (!message) throw new Error("nothing queued");
    // The payload is the JSON the form was read into: its hash is not the body's.
    expect(sha256HexNode(message.payload)).not.toBe(sha256HexNode(body));
    await consume([message]);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", body_sha256: sha256HexNode(body) });

    await consume([message], { attempts: 2 });
    expect(await eventRow(message.id)).toMatchObject({ conflict_count: 0, attempts: 1 });
  });
});

describe("replays", () => {
  it("a replay of an event whose effects are done runs nothing and writes nothing after its batch", async () => {
    const { registry, runs } = countingRegistry();
    const message = await messageFor(
      "nuvouch",
      nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId: uniqueId("replay_cost") }),
    );
    await consume([message], { registry });
    expect(runs).toHaveLength(1);

    const meter = newMeter();
    const meteredEnv = { ...env, DB: meteredD1(env.DB, meter) } as Env;
    const replay = await consume([{ ...message, replay: true }], { registry, env: meteredEnv });
    expect(replay.acked).toHaveLength(1);
    expect(runs).toHaveLength(1);
    // The event's identity, one batch (conflict note, approval, effect insert, revival, event row),
    // the ledger: nothing more, since no effect ran.
    expect(meter.d1Statements).toBe(7);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", attempts: 2 });
  });

  it("a first sighting that owes no effect costs one read and one batch", async () => {
    const meter = newMeter();
    const message = await messageFor("nova", novaEvent());
    await consume([message], { env: { ...env, DB: meteredD1(env.DB, meter) } as Env });
    // The identity read, then the conflict note and the event row in one batch.
    expect(meter.d1Statements).toBe(3);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
  });
});

describe("the log trail", () => {
  /** Every console line (each one a Workers Logs event, billed as one) that names `id`. */
  function linesNaming() {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    return (id: string) => lines.filter((line) => line.includes(id)).length;
  }

  it("a duplicate and a conflicting body each leave one line, as a processed event does", async () => {
    const count = linesNaming();
    const first = novaEvent();
    const message = await messageFor("nova", first);
    await consume([message]);
    expect(count(message.id)).toBe(1);
    await consume([message]);
    expect(count(message.id)).toBe(2);
    const other = await messageFor("nova", { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId });
    await consume([{ ...other, bodySha256: sha256HexNode(other.payload as string) }]);
    expect(count(message.id)).toBe(3);
  });

  it("two bodies under one id in one batch leave one line each", async () => {
    const count = linesNaming();
    const pairs = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const first = novaEvent();
        const other = { ...novaEvent({ type: "payment.refunded" }), eventId: first.eventId };
        return [await messageFor("nova", first), await messageFor("nova", other)];
      }),
    );
    const result = await consume(pairs.flat());
    expect(result.acked).toHaveLength(12);
    for (const [message] of pairs) {
      expect(await eventRow(message?.id as string)).toMatchObject({ conflict_count: 1 });
      expect(count(message?.id as string)).toBe(2);
    }
  });

  it("a failing effect leaves one line for its attempt", async () => {
    const count = linesNaming();
    const registry = new EffectRegistry().on("nova:payment.failed", "pager", () => {
      throw new Error("pager unavailable");
    });
    const message = await messageFor("nova", novaEvent({ type: "payment.failed" }));
    expect((await consume([message], { registry })).outcomeOf(0)).toMatchObject({ retried: true });
    expect(count(message.id)).toBe(1);
  });
});
