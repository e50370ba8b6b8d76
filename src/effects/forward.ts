import { Webhook } from "standardwebhooks";
import type { AttemptDetails } from "./attempts";
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

export const RESPONSE_SNIPPET_BYTES = 512;

/**
 * The URL as an operator may see it: credentials in the userinfo or the query (a receiver's
 * `?token=`) stay out of the attempt history.
 */
export function displayTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** The first `maxBytes` of a body as text, without reading (or waiting for) the rest. */
export async function readSnippet(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const bytes = new Uint8Array(maxBytes);
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, maxBytes - size);
      bytes.set(value.subarray(0, take), size);
      size += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  // stream: true drops a character cut in half at the limit instead of inventing one.
  return new TextDecoder().decode(bytes.subarray(0, size), { stream: true });
}

/**
 * POSTs the normalized event (docs/contract.md §6), signed per Standard Webhooks. The event id is
 * the `webhook-id` on every attempt, so the receiver can dedupe our retries. What the
 * target answered goes into `details`, for the attempt history, whether it succeeded or not.
 */
export async function forwardEvent(
  target: ForwardTarget,
  context: EffectContext<unknown> & { forwardData: unknown },
  details: AttemptDetails = {},
): Promise<void> {
  details.target = displayTarget(target.url);
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
  details.httpStatus = response.status;
  details.responseBody = await readSnippet(response.body, RESPONSE_SNIPPET_BYTES);
  if (response.ok) return;
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"), Date.now());
  if (response.status === 429 && retryAfter !== null) {
    throw new RetryLaterError(`forward target answered 429`, retryAfter);
  }
  throw new Error(`forward target answered ${response.status}`);
}
