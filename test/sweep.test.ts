import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { EVERY_FIVE_MINUTES } from "../src/maintenance/schedule";
import {
  DEAD_LETTER_QUEUE_MAX_RETRIES,
  MAIN_QUEUE_MAX_RETRIES,
  retrySpanSeconds,
  STUCK_AFTER_SECONDS,
  sweepStuckEvents,
} from "../src/maintenance/sweep";
import type { EventMessage } from "../src/queue/message";
import wranglerToml from "../wrangler.toml?raw";
import { consume, countingRegistry, effectRows, eventRow, messageFor } from "./support/consumer";
import { NOW_MS, recordingEnv } from "./support/gateway";
import { novaEvent, nuvouchApprovalEvent, uniqueId } from "./support/payloads";
import { sha256HexNode } from "./support/sign";

// The stuck-event sweep (docs/contract.md §9): an event left `retrying` after every queue message
// for it must be gone is queued again, once, and its effects still run at most once.

const HOUR = 60 * 60 * 1000;
/** Long enough ago that no queue message for the event can exist any more. */
const STUCK_SINCE = NOW_MS - STUCK_AFTER_SECONDS * 1000 - HOUR;

/** An approval callback whose effect failed at `atMs`: the event is left `retrying` then. */
async function retryingApproval(atMs: number) {
  const { registry, runs, behaviour } = countingRegistry();
  const externalRequestId = uniqueId("stuck");
  const message = await messageFor("nuvouch", nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId }));
  behaviour.failures = 1;
  await consume([message], { registry, nowMs: atMs });
  expect(await eventRow(message.id)).toMatchObject({ status: "retrying", updated_at: new Date(atMs).toISOString() });
  return { message, registry, runs, externalRequestId };
}

async function sweep(nowMs: number, options: { limit?: number; env?: Env } = {}) {
  const recorded = recordingEnv();
  const summary = await sweepStuckEvents(options.env ?? recorded.env, { nowMs, limit: options.limit });
  return { summary, sent: recorded.sent as EventMessage[] };
}

describe("the retry span", () => {
  it("is computed from the queues' settings in wrangler.toml and the consumer's backoff", () => {
    // Every consumer block (per environment, too): the dead-letter queues' and the others'.
    const consumers = wranglerToml.split(/^\[\[/m).filter((block) => /^(env\.\w+\.)?queues\.consumers\]\]/.test(block));
    const retries = (dlq: boolean) =>
      consumers
        .filter((block) => /^queue\s*=\s*"[^"]*-dlq"/m.test(block) === dlq)
        .map((block) => Number(/^max_retries\s*=\s*(\d+)/m.exec(block)?.[1]));
    expect(retries(false).length).toBeGreaterThan(0);
    expect(new Set(retries(false))).toEqual(new Set([MAIN_QUEUE_MAX_RETRIES]));
    expect(new Set(retries(true))).toEqual(new Set([DEAD_LETTER_QUEUE_MAX_RETRIES]));
    // 10, 20, 40 … 2560 s, then 3600 s (the cap): 8,710 s for the main queue, 44,710 s for the DLQ.
    expect(retrySpanSeconds(10)).toBe(8_710);
    expect(retrySpanSeconds(20)).toBe(44_710);
    expect(STUCK_AFTER_SECONDS).toBe(8_710 + 44_710 + 3_600);
  });
});

describe("sweeping stuck events", () => {
  it("re-enqueues a retrying event older than the retry span; the consumer then processes it, the effect once", async () => {
    const { message, registry, runs, externalRequestId } = await retryingApproval(STUCK_SINCE);
    const { summary, sent } = await sweep(NOW_MS);
    const mine = sent.filter((m) => m.id === message.id);
    expect(mine).toHaveLength(1);
    // It names the body the event was recorded with, so the consumer never takes it for a conflict.
    expect(mine[0]).toEqual({ ...message, v: 1, bodySha256: sha256HexNode(message.payload as string) });
    expect(summary.requeued).toBeGreaterThanOrEqual(1);

    await consume(mine, { registry, nowMs: NOW_MS });
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", attempts: 2 });
    expect(runs.map((r) => r.externalRequestId)).toEqual([externalRequestId, externalRequestId]); // failed, then done
    // The same message again (a duplicate, or a message that outlived the span after all): nothing runs.
    await consume(mine, { registry, nowMs: NOW_MS });
    expect(runs).toHaveLength(2);
    const [effect] = await effectRows({ eventId: message.id });
    expect(effect).toMatchObject({ status: "done", attempts: 2 });
  });

  it("an effect already done is not run again when its event is swept", async () => {
    const { message, registry, runs } = await retryingApproval(STUCK_SINCE);
    await consume([message], { registry, nowMs: STUCK_SINCE + HOUR });
    expect(runs).toHaveLength(2);
    // Done, but the event left retrying (a crash between the effect and the event's status).
    await env.DB.prepare("UPDATE events SET status = 'retrying', updated_at = ? WHERE id = ?")
      .bind(new Date(STUCK_SINCE).toISOString(), message.id)
      .run();
    const { sent } = await sweep(NOW_MS);
    const mine = sent.filter((m) => m.id === message.id);
    expect(mine).toHaveLength(1);
    await consume(mine, { registry, nowMs: NOW_MS });
    expect(runs).toHaveLength(2);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
  });

  it("leaves alone a retrying event younger than the span, and processed or dead events", async () => {
    const young = await retryingApproval(NOW_MS - STUCK_AFTER_SECONDS * 1000 + HOUR);
    const processed = await messageFor("nova", novaEvent());
    await consume([processed], { nowMs: STUCK_SINCE });
    const dead = await messageFor("nova", novaEvent());
    await consume([dead], { queue: "webhook-events-dlq", nowMs: STUCK_SINCE });
    const { sent } = await sweep(NOW_MS);
    const ids = sent.map((m) => m.id);
    expect(ids).not.toContain(young.message.id);
    expect(ids).not.toContain(processed.id);
    expect(ids).not.toContain(dead.id);
  });

  it("is idempotent: the next run, and a run at the same time, send nothing already sent", async () => {
    const { message } = await retryingApproval(STUCK_SINCE);
    const [a, b] = await Promise.all([sweep(NOW_MS), sweep(NOW_MS)]);
    const sends = [...a.sent, ...b.sent].filter((m) => m.id === message.id);
    expect(sends).toHaveLength(1);
    const later = await sweep(NOW_MS + 5 * 60 * 1000);
    expect(later.sent.map((m) => m.id)).not.toContain(message.id);
    // Its clock restarted at the sweep: only after another whole span is it stuck again.
    const muchLater = await sweep(NOW_MS + STUCK_AFTER_SECONDS * 1000 + HOUR);
    expect(muchLater.sent.map((m) => m.id)).toContain(message.id);
  });

  it("is bounded per run, oldest first", async () => {
    const oldest = await retryingApproval(STUCK_SINCE - 3 * HOUR);
    const middle = await retryingApproval(STUCK_SINCE - 2 * HOUR);
    const newest = await retryingApproval(STUCK_SINCE - HOUR);
    // Older than every other event of this file, so they lead the queue.
    for (const [i, e] of [oldest, middle, newest].entries()) {
      await env.DB.prepare("UPDATE events SET updated_at = ? WHERE id = ?")
        .bind(`2000-01-01T00:00:0${i}.000Z`, e.message.id)
        .run();
    }
    const first = await sweep(NOW_MS, { limit: 2 });
    expect(first.sent.map((m) => m.id)).toEqual([oldest.message.id, middle.message.id]);
    const second = await sweep(NOW_MS, { limit: 2 });
    expect(second.sent.map((m) => m.id)[0]).toBe(newest.message.id);
  });

  it("a send the queue refuses undoes the claim, so the next run sends it", async () => {
    const { message } = await retryingApproval(STUCK_SINCE);
    const refusing = {
      ...env,
      EVENTS_QUEUE: {
        send: async () => {
          throw new Error("queue unavailable");
        },
      },
    } as unknown as Env;
    const refused = await sweepStuckEvents(refusing, { nowMs: NOW_MS });
    expect(refused.failed).toBeGreaterThanOrEqual(1);
    expect(await eventRow(message.id)).toMatchObject({ updated_at: new Date(STUCK_SINCE).toISOString() });
    const { sent } = await sweep(NOW_MS);
    expect(sent.map((m) => m.id)).toContain(message.id);
  });

  it("runs on the */5 cron", async () => {
    const { message } = await retryingApproval(STUCK_SINCE);
    const { env: testEnv, sent } = recordingEnv();
    await worker.scheduled(createScheduledController({ scheduledTime: NOW_MS, cron: EVERY_FIVE_MINUTES }), testEnv);
    expect((sent as EventMessage[]).map((m) => m.id)).toContain(message.id);
  });
});
