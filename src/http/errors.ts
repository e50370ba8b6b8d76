import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error shape of every route: `{"error":{"code","message"?}}`. */
export function errorBody(code: string, message?: string, extra?: Record<string, unknown>) {
  return { error: { code, ...(message === undefined ? {} : { message }), ...extra } };
}

export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message?: string,
  extra?: Record<string, unknown>,
): Response {
  return c.json(errorBody(code, message, extra), status);
}

/**
 * D1's failures (an outage, a reset, an overloaded database) say so in their message: `D1_ERROR`,
 * `D1 …`, SQLite's codes. They are the caller's to retry (503), not a bug of ours (500).
 */
export function isStorageUnavailable(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /\bD1\b|D1_|SQLITE_(BUSY|IOERR|FULL|LOCKED)|Network connection lost/i.test(text);
}
