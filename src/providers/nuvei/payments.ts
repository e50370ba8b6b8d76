import { MERCHANT_KEY_PREFIX } from "./schema";

/*
 * One Nuvei payment is one answer row, whichever ids its webhooks carry (docs/contract.md §5, §7).
 *
 * Storage keeps, per key, the fold of the webhooks under it (./store.ts): one row per
 * transactionId, and one `merchant:<id>` row for the webhooks of a merchantTransactionId
 * that carry no transactionId. Each row is a join of its webhooks (highest precedence
 * wins, per field too), so any delivery order gives the same rows. Rows are joined into
 * payments here, when read, by a pure function of those rows:
 *
 * - A merchantTransactionId with no transactionId yet: its `merchant:` row is the
 *   payment (`transactionId: null`).
 * - Exactly one transactionId seen with that merchantTransactionId: the webhooks without
 *   a transactionId belong to it. Its row and the `merchant:` row are ONE payment, keyed
 *   by the transactionId: the later status (final before non-final, as always), each
 *   field from the highest-precedence webhook that carried it.
 * - REUSE. A second transactionId under the same merchantTransactionId is a second
 *   payment attempt: each transactionId is its own payment, from its own webhooks only.
 *   The webhooks without a transactionId can no longer be told apart: they are listed as
 *   their own row (`transactionId: null`) and never joined to an attempt, so an approval
 *   meant for one attempt can never mark another approved. Until the second transactionId
 *   arrives, nothing shows the reuse, so they count toward the single known attempt; the
 *   join is recomputed on every read, so the answer then changes to this one.
 *
 * Joining on read (instead of rewriting rows as webhooks arrive) is what keeps the result
 * independent of delivery order: which attempt a webhook without transactionId belongs
 * to depends on every webhook of the merchant id, including those not yet delivered.
 */

/** A stored row: the fold of the webhooks under one key. */
export interface TransactionRow {
  key: string;
  merchantTransactionId: string | null;
  status: string;
  precedence: string;
  amount: string | null;
  amountPrecedence: string | null;
  currency: string | null;
  currencyPrecedence: string | null;
  transactionType: string | null;
  transactionTypePrecedence: string | null;
  updatedAt: string;
}

/** The operator API's transaction (docs/contract.md §7). */
export interface NuveiPayment {
  transactionId: string | null;
  merchantTransactionId: string | null;
  status: string;
  amount: string | null;
  currency: string | null;
  transactionType: string | null;
  updatedAt: string;
}

export function isMerchantKey(key: string): boolean {
  return key.startsWith(MERCHANT_KEY_PREFIX);
}

function fieldOf<V>(a: V, aPrecedence: string | null, b: V, bPrecedence: string | null): [V, string | null] {
  return (bPrecedence ?? "") > (aPrecedence ?? "") ? [b, bPrecedence] : [a, aPrecedence];
}

/** The join of two rows, keyed by the first. */
function join(row: TransactionRow, other: TransactionRow): TransactionRow {
  const top = other.precedence > row.precedence ? other : row;
  const [amount, amountPrecedence] = fieldOf(row.amount, row.amountPrecedence, other.amount, other.amountPrecedence);
  const [currency, currencyPrecedence] = fieldOf(
    row.currency,
    row.currencyPrecedence,
    other.currency,
    other.currencyPrecedence,
  );
  const [transactionType, transactionTypePrecedence] = fieldOf(
    row.transactionType,
    row.transactionTypePrecedence,
    other.transactionType,
    other.transactionTypePrecedence,
  );
  return {
    key: row.key,
    merchantTransactionId: row.merchantTransactionId ?? other.merchantTransactionId,
    status: top.status,
    precedence: top.precedence,
    amount,
    amountPrecedence,
    currency,
    currencyPrecedence,
    transactionType,
    transactionTypePrecedence,
    updatedAt: other.updatedAt > row.updatedAt ? other.updatedAt : row.updatedAt,
  };
}

export function toPayment(row: TransactionRow): NuveiPayment {
  return {
    transactionId: isMerchantKey(row.key) ? null : row.key,
    merchantTransactionId: row.merchantTransactionId,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    transactionType: row.transactionType,
    updatedAt: row.updatedAt,
  };
}

/**
 * The payments of one merchantTransactionId, from all rows that carry it (its
 * transactionIds' rows and its `merchant:` row), newest first.
 */
export function paymentsOf(rows: readonly TransactionRow[]): NuveiPayment[] {
  const attempts = rows.filter((row) => !isMerchantKey(row.key));
  const withoutTransactionId = rows.find((row) => isMerchantKey(row.key));
  const joined =
    attempts.length === 1 && withoutTransactionId
      ? [join(attempts[0] as TransactionRow, withoutTransactionId)]
      : [...attempts, ...(withoutTransactionId ? [withoutTransactionId] : [])];
  return joined
    .map(toPayment)
    .sort((a, b) =>
      a.updatedAt === b.updatedAt
        ? (b.transactionId ?? "").localeCompare(a.transactionId ?? "")
        : b.updatedAt.localeCompare(a.updatedAt),
    );
}
