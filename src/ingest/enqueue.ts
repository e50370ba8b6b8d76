import { sha256Hex } from "../crypto/hmac";
import type { EventMessage } from "../queue/message";

// Cloudflare Queues refuses messages over 128 KB including metadata; leave headroom.
export const MAX_INLINE_MESSAGE_BYTES = 120_000;

/**
 * The gateway id is derived from (provider, dedupe key), so a duplicate delivery, a queue
 * redelivery and a replay all name the same event without any lookup.
 */
export async function gatewayEventId(provider: string, dedupeKey: string): Promise<string> {
  return `gw_${(await sha256Hex(`${provider}\n${dedupeKey}`)).slice(0, 32)}`;
}

function fitsInline(message: EventMessage, payload: string): boolean {
  // Cheap bound first: a UTF-16 unit is at most 6 bytes once JSON-escaped (\u001f).
  if (payload.length * 6 + 2048 <= MAX_INLINE_MESSAGE_BYTES) return true;
  return new TextEncoder().encode(JSON.stringify(message)).byteLength <= MAX_INLINE_MESSAGE_BYTES;
}

/** Sends the message, parking an oversized payload in D1 first. Throws if the queue refuses. */
export async function enqueueEvent(env: Env, message: EventMessage): Promise<{ stored: "inline" | "d1" }> {
  let toSend = message;
  if (message.payload !== undefined && !fitsInline(message, message.payload)) {
    await env.DB.prepare(
      "INSERT INTO payload_blobs (id, payload, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET payload = excluded.payload",
    )
      .bind(message.id, message.payload, Date.now())
      .run();
    const { payload: _inline, ...rest } = message;
    toSend = { ...rest, payloadRef: message.id };
  }
  await env.EVENTS_QUEUE.send(toSend, { contentType: "json" });
  return { stored: toSend === message ? "inline" : "d1" };
}
