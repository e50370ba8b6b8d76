import { systemClock } from "../clock";
import { getConfig } from "../config";
import { standardWebhookHeaders } from "../crypto/standard-webhooks";
import { retryAfterMs } from "../http/retry-after";
import type { Provider } from "../providers/types";
import { readSecretList } from "../secrets";
import { type EffectContext, type EffectRegistry, RetryLaterError } from "./registry";

export const FORWARD_EFFECT = "forward";

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
 * POSTs the normalized event (docs/contract.md §6) to FORWARD_URL, signed per Standard Webhooks
 * with FORWARD_SIGNING_SECRET (with each of its keys during a rotation). The event id is the `webhook-id` on every attempt, so the receiver
 * can dedupe our retries. What the target answered is noted for the attempt history, whether it
 * succeeded or not.
 */
async function forwardEvent(context: EffectContext<unknown>): Promise<void> {
  const { event, env } = context;
  const url = getConfig(env).FORWARD_URL;
  const signingSecrets = url ? await readSecretList(env, "FORWARD_SIGNING_SECRET", context.now()) : [];
  if (!url || signingSecrets.length === 0)
    throw new Error("forwarding is scheduled but FORWARD_URL or FORWARD_SIGNING_SECRET is not set");
  context.note({ target: displayTarget(url) });
  const body = JSON.stringify({
    id: event.id,
    provider: event.provider,
    type: event.type,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    data: event.data,
  });
  // The real time, whatever clock the consumer runs on: the receiver checks it against its own.
  const sentAt = new Date(systemClock());
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...standardWebhookHeaders(signingSecrets, event.id, sentAt, body),
    },
    body,
    signal: context.signal,
  });
  context.note({
    httpStatus: response.status,
    responseBody: await readSnippet(response.body, RESPONSE_SNIPPET_BYTES),
  });
  if (response.ok) return;
  const retryAfter = retryAfterMs(response.headers.get("retry-after"), context.now());
  if (response.status === 429 && retryAfter !== null) {
    throw new RetryLaterError(`forward target answered 429`, Math.ceil(retryAfter / 1000));
  }
  throw new Error(`forward target answered ${response.status}`);
}

/**
 * Forwarding, as an effect like any other: every event of every provider, once per event (not per
 * the provider's once-key: a late callback that decides nothing is still forwarded), scheduled while
 * FORWARD_URL is set, each attempt within FORWARD_TIMEOUT_MS. A copy of `registry` with it added.
 */
export function withForwarding<P extends Provider>(registry: EffectRegistry<P>): EffectRegistry<P> {
  return registry.copy().onAny(FORWARD_EFFECT, forwardEvent, {
    oncePer: "event",
    enabled: (config) => config.FORWARD_URL !== undefined,
    timeoutMs: (config) => config.FORWARD_TIMEOUT_MS,
  });
}
