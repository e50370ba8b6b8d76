import type { Context } from "hono";
import { getConfig } from "../config";
import type { RefusalAggregator } from "../monitor/rejections";

/** Every 4xx of the webhook route is a refusal: counted, not logged one line per request. */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500;
}

// The path segment is the sender's text: kept short and printable, it names the mistake
// (a typo in the configured callback URL) without letting anyone write into our rows.
function printable(text: string, max: number): string {
  return text.slice(0, max).replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Hands a refused delivery to the isolate's aggregator. A path no provider serves is
 * counted under provider `unknown`, so the number of provider names stays fixed.
 */
export function countRefusal(
  c: Context<{ Bindings: Env }>,
  aggregator: RefusalAggregator,
  nowMs: number,
  refusal: { provider: string | undefined; requested: string; status: number; code: string; fields: object },
): void {
  const { code } = refusal;
  let reason = String((refusal.fields as { reason?: unknown }).reason ?? code);
  if (code === "unknown_provider") reason = `no provider "${printable(refusal.requested, 32)}"`;
  else if (code === "method_not_allowed") reason = `method ${printable(c.req.method, 16)}`;
  else if (code === "payload_too_large") reason = `body over ${getConfig(c.env).MAX_BODY_BYTES} bytes`;
  const flush = aggregator.record(
    c.env.DB,
    { provider: refusal.provider ?? "unknown", code, status: refusal.status, reason },
    nowMs,
  );
  if (flush) c.executionCtx.waitUntil(flush);
}
