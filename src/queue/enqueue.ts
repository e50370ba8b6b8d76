import { sha256Hex } from "../crypto/hmac";
import { deleteBlob, parkPayload } from "../events/store";
import type { EventMessage } from "./message";

// Cloudflare Queues refuses messages over 128 KB including metadata; leave headroom.
export const MAX_INLINE_MESSAGE_BYTES = 120_000;

/**
 * The gateway id is derived from (provider, dedupe key), so a duplicate delivery, a queue
 * redelivery and a replay all name the same event without any lookup.
 */
export async function gatewayEventId(provider: string, dedupeKey: string): Promise<string> {
  return `gw_${(await sha256Hex(`${provider}\n${dedupeKey}`)).slice(0, 32)}`;
}

/**
 * The queue an event of `provider` goes to: one for all today. This is the one place to change for a
 * queue per provider (README, "Scaling"): add the producers to wrangler.toml and pick one here.
 */
export function eventsQueue(env: Env, _provider: string): Queue<EventMessage> {
  return env.EVENTS_QUEUE as Queue<EventMessage>;
}

function fitsInline(message: EventMessage, payload: string): boolean {
  // Cheap bound first: a UTF-16 unit is at most 6 bytes once JSON-escaped (\u001f).
  if (payload.length * 6 + 2048 <= MAX_INLINE_MESSAGE_BYTES) return true;
  return new TextEncoder().encode(JSON.stringify(message)).byteLength <= MAX_INLINE_MESSAGE_BYTES;
}

/**
 * Sends the message, parking an oversized payload in D1 first. Throws if the queue refuses, after
 * removing what it parked: a delivery that was not queued leaves no row behind.
 */
export async function enqueueEvent(
  env: Env,
  message: EventMessage,
  nowMs: number,
): Promise<{ stored: "inline" | "d1" }> {
  if (message.payload === undefined || fitsInline(message, message.payload)) {
    await eventsQueue(env, message.provider).send(message, { contentType: "json" });
    return { stored: "inline" };
  }
  // Keyed by a fresh id, not the event's: a conflicting body's blob must never overwrite (or be
  // deleted with) the parked payload of the event it conflicts with.
  const ref = `${message.id}:${crypto.randomUUID()}`;
  await parkPayload(env.DB, ref, message.payload, nowMs).run();
  const { payload: _inline, ...rest } = message;
  try {
    await eventsQueue(env, message.provider).send({ ...rest, payloadRef: ref }, { contentType: "json" });
  } catch (error) {
    await deleteBlob(env.DB, ref)
      .run()
      .catch(() => {}); // the daily retention purge removes it if this fails too
    throw error;
  }
  return { stored: "d1" };
}
