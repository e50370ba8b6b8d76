import { Webhook } from "standardwebhooks";
import type { EffectContext } from "./registry";
import { RetryLaterError } from "./registry";

export const FORWARD_EFFECT = "forward";

export interface ForwardTarget {
  url: string;
  signingSecret: string;
}

/** Retry-After is delta-seconds or an HTTP date; anything else falls back to backoff. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - nowMs) / 1000)) : null;
}

/**
 * POSTs the normalized event (docs/contract.md §6), signed per Standard Webhooks. The event id is
 * the `webhook-id` on every attempt, so the receiver can dedupe our retries.
 */
export async function forwardEvent(
  target: ForwardTarget,
  context: EffectContext<unknown> & { forwardData: unknown },
): Promise<void> {
  const { event } = context;
  const body = JSON.stringify({
    id: event.id,
    provider: event.provider,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    data: context.forwardData,
  });
  const sentAt = new Date();
  const response = await fetch(target.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": event.id,
      "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
      "webhook-signature": new Webhook(target.signingSecret).sign(event.id, sentAt, body),
    },
    body,
    signal: context.signal,
  });
  await response.body?.cancel();
  if (response.ok) return;
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"), Date.now());
  if (response.status === 429 && retryAfter !== null) {
    throw new RetryLaterError(`forward target answered 429`, retryAfter);
  }
  throw new Error(`forward target answered ${response.status}`);
}
