/**
 * State rows keep the precedence of the callback that set it, as a string that sorts
 * in precedence order. An upsert replaces a row only with a strictly higher precedence,
 * so applying callbacks is idempotent, and — for a total order — independent of order.
 */
export function higherPrecedence<T extends { precedence: string }>(current: T | null, next: T): T {
  return current === null || next.precedence > current.precedence ? next : current;
}

// An ISO 8601 time with up to nanoseconds (Nuvei sends `2024-08-28T12:11:47.337302438Z`).
// A time without an offset is UTC, as Date.parse reads it in Workers.
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

/** Width of `sortableTime`: 15 digits of epoch milliseconds, then 6 below the millisecond. */
export const SORTABLE_TIME_WIDTH = 21;

/**
 * A time as 21 digits whose string order is time order, to the nanosecond. This is a
 * STORED encoding (inside `nuvei_transactions.precedence`): changing it needs a migration
 * of the stored rows, as migrations/0007 did when it went from 15 digits to 21.
 *
 *   digits 1-15   epoch milliseconds, zero-padded (good until the year 33658)
 *   digits 16-21  the nanoseconds within that millisecond: fraction digits 4 to 9,
 *                 right-padded with zeros; digits past the ninth are ignored
 *
 * `2024-08-28T12:11:47.337302438Z` → `001724847107337` + `302438`. A missing, unreadable
 * or pre-1970 time is all zeros, the earliest: never "", which would sort after the
 * digits once a separator follows it. A time Date.parse reads in another format has no
 * sub-millisecond part.
 */
export function sortableTime(iso: string | null | undefined): string {
  const zero = "0".repeat(SORTABLE_TIME_WIDTH);
  if (!iso) return zero;
  const match = ISO_TIME.exec(iso);
  let ms: number;
  let belowMs = "000000";
  if (match) {
    const fraction = `${match[2] ?? ""}000000000`.slice(0, 9);
    ms = Date.parse(`${match[1]}${match[3] ?? "Z"}`) + Number(fraction.slice(0, 3));
    belowMs = fraction.slice(3);
  } else {
    ms = Date.parse(iso);
  }
  if (!Number.isFinite(ms) || ms < 0) return zero;
  return `${String(ms).padStart(15, "0")}${belowMs}`;
}
