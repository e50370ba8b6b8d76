import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sha256Hex } from "../../src/crypto/hmac";
import { withForwarding } from "../../src/effects/forward";
import { EffectRegistry } from "../../src/effects/registry";
import { providers } from "../../src/providers/registry";
import type { Provider } from "../../src/providers/types";
import { createQueueHandler } from "../../src/queue/consumer";
import { gatewayEventId } from "../../src/queue/enqueue";
import type { EventMessage } from "../../src/queue/message";
import { NOW_MS } from "./gateway";

let messageCounter = 0;

/** The message ingest would send for this payload, built with the providers' real parsers. */
export async function messageFor(
  provider: string,
  payload: unknown,
  extra: Partial<EventMessage> = {},
): Promise<EventMessage> {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const body = new TextEncoder().encode(text);
  const p = providers.get(provider);
  if (!p) throw new Error(`unknown provider ${provider}`);
  const read = await p.parse(text, {
    headers: new Headers({ "content-type": "application/json" }),
    body,
    bodySha256: () => sha256Hex(body),
  });
  if (!read.ok) throw new Error(read.message);
  const parsed = read.value;
  return {
    v: 1,
    id: await gatewayEventId(provider, parsed.dedupeKey),
    provider,
    dedupeKey: parsed.dedupeKey,
    type: parsed.type,
    occurredAt: parsed.occurredAt,
    receivedAt: new Date(NOW_MS + messageCounter).toISOString(),
    payload: parsed.payloadJson,
    ...extra,
  };
}

export interface ConsumeOptions {
  env?: Env;
  /** The effects, and (its `providers`) the providers served; default none, and the built-in ones. */
  registry?: EffectRegistry<Provider>;
  queue?: string;
  attempts?: number;
  nowMs?: number;
}

/** Runs the real queue handler on a batch and reports what it acked and retried. */
export async function consume(bodies: unknown[], options: ConsumeOptions = {}) {
  const ids = bodies.map(() => `msg-${++messageCounter}`);
  const batch = createMessageBatch(
    options.queue ?? "webhook-events",
    bodies.map((body, i) => ({
      id: ids[i] as string,
      timestamp: new Date(NOW_MS),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  // getQueueResult does not report retry delays, so they are read off the calls themselves.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (retryOptions?: QueueRetryOptions) => {
      delays.set(message.id, retryOptions?.delaySeconds);
      retry(retryOptions);
    };
  }
  const ctx = createExecutionContext();
  const handler = createQueueHandler({
    // As src/effects/handlers.ts does: a test's own effects, and forwarding while FORWARD_URL is set.
    registry: withForwarding(options.registry ?? new EffectRegistry()),
    now: () => options.nowMs ?? NOW_MS,
  });
  await handler(batch, options.env ?? env, ctx);
  const result = await getQueueResult(batch, ctx);
  const retried = new Map(result.retryMessages.map((m) => [m.msgId, delays.get(m.msgId)]));
  return {
    ids,
    acked: ids.filter((id) => result.explicitAcks.includes(id)),
    retried,
    outcomeOf: (i: number) => {
      const id = ids[i] as string;
      if (retried.has(id)) return { retried: true, delaySeconds: retried.get(id) };
      return { acked: result.explicitAcks.includes(id) };
    },
  };
}

/** A registry whose Nova `dma.session.started` effect "slow" never settles and ignores its abort signal. */
export function hangingRegistry() {
  const runs = { started: 0 };
  const registry = new EffectRegistry().on("nova:dma.session.started", "slow", () => {
    runs.started++;
    return new Promise<void>(() => {});
  });
  return { registry, runs };
}

/** A registry whose approval effects count their runs and can be told to fail. */
export function countingRegistry() {
  const runs: { effectId: string; name: string; externalRequestId: string }[] = [];
  const behaviour = { failures: 0 };
  const record = (name: string) => (ctx: { effectId: string; payload: { data: { externalRequestId: string } } }) => {
    runs.push({ effectId: ctx.effectId, name, externalRequestId: ctx.payload.data.externalRequestId });
    if (behaviour.failures > 0) {
      behaviour.failures--;
      throw new Error("downstream unavailable");
    }
  };
  const registry = new EffectRegistry()
    .on("nuvouch:nuvouch.approval.approved", "on-approved", record("on-approved"))
    .on("nuvouch:nuvouch.approval.denied", "on-denied", record("on-denied"));
  return { registry, runs, behaviour };
}

export async function approvalRow(externalRequestId: string) {
  return env.DB.prepare("SELECT * FROM nuvouch_approvals WHERE external_request_id = ?")
    .bind(externalRequestId)
    .first<Record<string, unknown>>();
}

export async function eventRow(id: string) {
  return env.DB.prepare("SELECT * FROM events WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

export async function effectRows(eventIdOrPrefix: { eventId?: string; prefix?: string }) {
  const { results } = eventIdOrPrefix.eventId
    ? await env.DB.prepare("SELECT * FROM effects WHERE event_id = ? ORDER BY id").bind(eventIdOrPrefix.eventId).all()
    : await env.DB.prepare("SELECT * FROM effects WHERE substr(id, 1, ?) = ? ORDER BY id")
        .bind(eventIdOrPrefix.prefix?.length, eventIdOrPrefix.prefix)
        .all();
  return results as Record<string, unknown>[];
}
