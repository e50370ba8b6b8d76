import { sortableTime } from "../precedence";
import { NUVEI_FINAL_STATUSES, type NuveiWebhook } from "./schema";

// Pure state rule of docs/contract.md §5 for Nuvei: a non-final status never overwrites a final
// one. Among callbacks of the same finality the later `timeStamp` wins, then the status
// name, then the body hash: a total order, so any delivery order ends in the same row.

export interface NuveiTransactionState {
  transactionId: string;
  merchantTransactionId: string | null;
  status: string;
  precedence: string;
  amount: string | null;
  currency: string | null;
  transactionType: string | null;
  statusTime: string | null;
}

const FINAL = new Set<string>(NUVEI_FINAL_STATUSES);

export function isFinalNuveiStatus(status: string): boolean {
  return FINAL.has(status);
}

export function nuveiPrecedence(status: string, timeStamp: string | null | undefined, dedupeKey: string): string {
  return `${isFinalNuveiStatus(status) ? 1 : 0}|${sortableTime(timeStamp)}|${status}|${dedupeKey}`;
}

/**
 * Nuvei's own APM examples carry no transactionId; merchantTransactionId, which Nuvei
 * recommends for mapping webhooks, keys the record then, in its own `merchant:` namespace
 * so that a merchant's numeric order id never lands on another payment's transactionId.
 */
export function transactionKey(webhook: NuveiWebhook): string | null {
  if (webhook.transactionId !== undefined) return webhook.transactionId;
  return webhook.merchantTransactionId === undefined ? null : `merchant:${webhook.merchantTransactionId}`;
}

export function transactionFromWebhook(webhook: NuveiWebhook, dedupeKey: string): NuveiTransactionState | null {
  const transactionId = transactionKey(webhook);
  if (transactionId === null) return null;
  return {
    transactionId,
    merchantTransactionId: webhook.merchantTransactionId ?? null,
    status: webhook.result.status,
    precedence: nuveiPrecedence(webhook.result.status, webhook.timeStamp, dedupeKey),
    amount: webhook.amount === undefined ? null : String(webhook.amount),
    currency: webhook.currency ?? null,
    transactionType: webhook.transactionType ?? null,
    statusTime: webhook.timeStamp ?? null,
  };
}
