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
