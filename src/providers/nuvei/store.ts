import type { NuveiTransactionState } from "./state";

export function upsertTransaction(db: D1Database, state: NuveiTransactionState, now: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO nuvei_transactions
         (transaction_id, merchant_transaction_id, status, precedence, amount, currency, transaction_type,
          status_time, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (transaction_id) DO UPDATE SET
         merchant_transaction_id = COALESCE(excluded.merchant_transaction_id, nuvei_transactions.merchant_transaction_id),
         status = excluded.status, precedence = excluded.precedence,
         amount = COALESCE(excluded.amount, nuvei_transactions.amount),
         currency = COALESCE(excluded.currency, nuvei_transactions.currency),
         transaction_type = COALESCE(excluded.transaction_type, nuvei_transactions.transaction_type),
         status_time = excluded.status_time, updated_at = excluded.updated_at
       WHERE excluded.precedence > nuvei_transactions.precedence`,
    )
    .bind(
      state.transactionId,
      state.merchantTransactionId,
      state.status,
      state.precedence,
      state.amount,
      state.currency,
      state.transactionType,
      state.statusTime,
      now,
    );
}

export async function getTransaction(db: D1Database, transactionId: string) {
  const row = await db
    .prepare(
      `SELECT transaction_id AS transactionId, merchant_transaction_id AS merchantTransactionId, status,
              amount, currency, transaction_type AS transactionType, updated_at AS updatedAt
       FROM nuvei_transactions WHERE transaction_id = ?`,
    )
    .bind(transactionId)
    .first<Record<string, string | null>>();
  return row ?? null;
}
