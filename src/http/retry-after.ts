/**
 * Retry-After (RFC 9110 §10.2.3), delta-seconds or an HTTP date, as milliseconds from `nowMs`;
 * null when absent or unreadable, so the caller falls back to its own backoff.
 */
export function retryAfterMs(value: string | null | undefined, nowMs: number): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}
