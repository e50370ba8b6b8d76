import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code any route answers with (docs/contract.md §3, §7). */
export type ErrorCode =
  // POST /webhooks/:provider
  | "unknown_provider"
  | "method_not_allowed"
  | "source_not_allowed"
  | "payload_too_large"
  | "signature_missing"
  | "signature_invalid"
  | "timestamp_out_of_tolerance"
  | "store_failed"
  | "enqueue_failed"
  // any route
  | "not_found"
  | "invalid_json"
  | "invalid_query"
  | "storage_unavailable"
  | "internal_error"
  // the operator API
  | "unauthorized"
  | "admin_api_disabled"
  | "admin_api_misconfigured"
  | "event_not_found"
  | "transaction_not_found"
  | "connection_not_found"
  | "approval_not_found"
  | "connection_in_progress"
  | "connection_not_accepted"
  | "idempotency_conflict"
  | "expires_at_in_past"
  | "nuvouch_not_configured"
  | "nuvouch_unauthorized"
  | "nuvouch_rejected"
  | "nuvouch_rate_limited"
  | "nuvouch_unavailable";

type Statuses = readonly [ContentfulStatusCode, ...ContentfulStatusCode[]];

/** Each code's status; a code with several has its usual one first. */
const STATUS = {
  unknown_provider: [404],
  method_not_allowed: [405],
  source_not_allowed: [403],
  payload_too_large: [413],
  signature_missing: [401],
  signature_invalid: [401],
  timestamp_out_of_tolerance: [401],
  store_failed: [503],
  enqueue_failed: [503],
  not_found: [404],
  invalid_json: [400],
  invalid_query: [400],
  storage_unavailable: [503],
  internal_error: [500],
  unauthorized: [401],
  admin_api_disabled: [503],
  admin_api_misconfigured: [503],
  event_not_found: [404],
  transaction_not_found: [404],
  connection_not_found: [404],
  approval_not_found: [404],
  connection_in_progress: [409],
  connection_not_accepted: [409],
  idempotency_conflict: [409],
  expires_at_in_past: [400],
  nuvouch_not_configured: [503],
  nuvouch_unauthorized: [502],
  nuvouch_rejected: [502],
  nuvouch_rate_limited: [503],
  // Its retries spent: 502. Cut short by the request's time budget: 503 with Retry-After.
  nuvouch_unavailable: [502, 503],
} as const satisfies Record<ErrorCode, Statuses>;

export type StatusOf<C extends ErrorCode> = (typeof STATUS)[C][number];

export function statusOf<C extends ErrorCode>(code: C): StatusOf<C> {
  return STATUS[code][0];
}

/** The one error shape of every route: `{"error":{"code","message"?}}`. */
export function errorBody(code: ErrorCode, message?: string, fields?: Record<string, unknown>) {
  return { error: { code, ...(message === undefined ? {} : { message }), ...fields } };
}

/** An error answer, with its code's status (or, for a code that has several, the one given). */
export function jsonError<C extends ErrorCode>(
  c: Context,
  code: C,
  message?: string,
  options: { status?: StatusOf<C>; fields?: Record<string, unknown> } = {},
): Response {
  return c.json(errorBody(code, message, options.fields), options.status ?? statusOf(code));
}

/**
 * D1's failures (an outage, a reset, an overloaded database) say so in their message: `D1_ERROR`,
 * `D1 …`, SQLite's codes. They are the caller's to retry (503), not a bug of ours (500).
 */
export function isStorageUnavailable(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /\bD1\b|D1_|SQLITE_(BUSY|IOERR|FULL|LOCKED)|Network connection lost/i.test(text);
}
