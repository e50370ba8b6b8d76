import type { SqlCondition } from "../../sql";
import type { TransactionRow } from "./payments";
import type { NuveiTransactionState } from "./state";

/**
 * Folds one webhook into its row (`transaction_id` is the key: a transactionId, or
 * `merchant:<id>`, see ./state.ts). Every column is a join, so the statements are
 * idempotent and webhooks commute, whatever order and batching the consumer sees:
 * - status, precedence, status_time: from the webhook of the highest precedence;
 * - amount, currency, transaction_type: each from the highest-precedence webhook that
 *   carried it, so a later webhook without the field never blanks it, in any order
 *   (hence a precedence per field);
 * - merchant_transaction_id: the smallest one seen (one per payment; any rule would do
 *   for contradictory webhooks, as long as it does not depend on their order). Set by a
 *   statement of its own: a column in an upsert's SET list rewrites its index entry on
 *   every status change, a D1 row written for nothing.
 * The WHERE clauses skip the writes when nothing would change.
 */
/**
 * The writes of one webhook, only where `applies` holds (the delivery's body is the event's). A
 * Nuvei conflict cannot arise today, since the dedupe key is the body's hash; the gate keeps the
 * rule true of every provider all the same.
 */
export function transactionStatements(
  db: D1Database,
  state: NuveiTransactionState,
  now: string,
  applies: SqlCondition,
): D1PreparedStatement[] {
  const upsert = db
    .prepare(
      `INSERT INTO nuvei_transactions AS t
         (transaction_id, merchant_transaction_id, status, precedence, status_time,
          amount, amount_precedence, currency, currency_precedence, transaction_type, transaction_type_precedence,
          updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5,
              ?6, iif(?6 IS NULL, NULL, ?4), ?7, iif(?7 IS NULL, NULL, ?4), ?8, iif(?8 IS NULL, NULL, ?4),
              ?9
       WHERE ${applies.sql}
       ON CONFLICT (transaction_id) DO UPDATE SET
         status = iif(excluded.precedence > t.precedence, excluded.status, t.status),
         status_time = iif(excluded.precedence > t.precedence, excluded.status_time, t.status_time),
         precedence = max(excluded.precedence, t.precedence),
         amount = iif(excluded.amount_precedence > coalesce(t.amount_precedence, ''), excluded.amount, t.amount),
         amount_precedence = coalesce(max(excluded.amount_precedence, t.amount_precedence),
                                      t.amount_precedence, excluded.amount_precedence),
         currency = iif(excluded.currency_precedence > coalesce(t.currency_precedence, ''),
                        excluded.currency, t.currency),
         currency_precedence = coalesce(max(excluded.currency_precedence, t.currency_precedence),
                                        t.currency_precedence, excluded.currency_precedence),
         transaction_type = iif(excluded.transaction_type_precedence > coalesce(t.transaction_type_precedence, ''),
                                excluded.transaction_type, t.transaction_type),
         transaction_type_precedence = coalesce(max(excluded.transaction_type_precedence, t.transaction_type_precedence),
                                                t.transaction_type_precedence, excluded.transaction_type_precedence),
         updated_at = excluded.updated_at
       WHERE excluded.precedence > t.precedence
          OR excluded.amount_precedence > coalesce(t.amount_precedence, '')
          OR excluded.currency_precedence > coalesce(t.currency_precedence, '')
          OR excluded.transaction_type_precedence > coalesce(t.transaction_type_precedence, '')`,
    )
    .bind(
      state.transactionId,
      state.merchantTransactionId,
      state.status,
      state.precedence,
      state.statusTime,
      state.amount,
      state.currency,
      state.transactionType,
      now,
      ...applies.params,
    );
  if (state.merchantTransactionId === null) return [upsert];
  const merchantId = db
    .prepare(
      `UPDATE nuvei_transactions SET merchant_transaction_id = ?2
       WHERE transaction_id = ?1 AND (merchant_transaction_id IS NULL OR merchant_transaction_id > ?2)
         AND ${applies.sql}`,
    )
    .bind(state.transactionId, state.merchantTransactionId, ...applies.params);
  return [upsert, merchantId];
}

const ROW = `transaction_id AS key, merchant_transaction_id AS merchantTransactionId, status, precedence,
  amount, amount_precedence AS amountPrecedence, currency, currency_precedence AS currencyPrecedence,
  transaction_type AS transactionType, transaction_type_precedence AS transactionTypePrecedence,
  updated_at AS updatedAt`;

export async function getTransactionRow(db: D1Database, key: string): Promise<TransactionRow | null> {
  return db.prepare(`SELECT ${ROW} FROM nuvei_transactions WHERE transaction_id = ?`).bind(key).first<TransactionRow>();
}

/**
 * Every row of one merchantTransactionId: its transactionIds' and its `merchant:` row.
 * Bounded, as any read an operator can trigger; a merchant id is one order's, with a few
 * attempts at most.
 */
export async function transactionRowsOfMerchant(db: D1Database, merchantTransactionId: string) {
  const { results } = await db
    .prepare(`SELECT ${ROW} FROM nuvei_transactions WHERE merchant_transaction_id = ?
       ORDER BY updated_at DESC LIMIT 500`)
    .bind(merchantTransactionId)
    .all<TransactionRow>();
  return results;
}
