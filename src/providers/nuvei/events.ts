// Nuvei's `result.status` values (the document's table of Gateway statuses, and the APM statuses
// `update` and, in its example body, `updated`). An event's type is `transaction.<status>`. Nuvei
// may send another status: it is recorded and forwarded, and reaches `nuvei:*` and `*` handlers
// only. No imports: the simulator reads it too.
export const NUVEI_STATUSES = [
  "pending",
  "update",
  "updated",
  "approved",
  "declined",
  "error",
  "authorizedOnly",
  "redirect",
  "challenge",
  "fingerprint",
  "authenticated",
  "authenticationNotSupported",
] as const;

/** Final statuses: no later non-final callback may overwrite them (docs/contract.md §5). */
export const NUVEI_FINAL_STATUSES = ["approved", "declined", "error", "authorizedOnly"] as const;

export const NUVEI_EVENT_TYPES = NUVEI_STATUSES.map((status) => `transaction.${status}` as const);
