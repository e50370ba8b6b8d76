/**
 * State rows keep the precedence of the callback that set them, as a string that sorts
 * in precedence order. An upsert replaces a row only with a strictly higher precedence,
 * so applying callbacks is idempotent, and — for a total order — independent of order.
 */
export function higherPrecedence<T extends { precedence: string }>(current: T | null, next: T): T {
  return current === null || next.precedence > current.precedence ? next : current;
}

/**
 * Epoch milliseconds, zero-padded so that string order is time order. A missing or
 * unreadable time is all zeros, the earliest: never "", which would sort after the digits
 * once a separator follows it.
 */
export function sortableTime(iso: string | null | undefined): string {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return (Number.isFinite(ms) && ms >= 0 ? String(ms) : "0").padStart(15, "0");
}
