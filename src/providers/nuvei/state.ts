import { sortableTime } from "../precedence";
import { NUVEI_FINAL_STATUSES } from "./events";
import { MERCHANT_KEY_PREFIX, type NuveiWebhook } from "./schema";

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

/**
 * The STORED precedence of a Nuvei callback (`nuvei_transactions.precedence`), compared as
 * a string: `<1 if final else 0>|<sortableTime(timeStamp), 21 digits>|<status>|<body hash>`,
 * e.g. `1|001724847107337302438|approved|<64 hex>`. Final beats non-final; then the later
 * timeStamp to the nanosecond; the status name and the body hash only break exact ties.
 * Rows written under another encoding compare wrongly against this one: a change needs a
 * migration that rewrites them (see migrations/0007).
 */
export function nuveiPrecedence(status: string, timeStamp: string | null | undefined, dedupeKey: string): string {
  return `${isFinalNuveiStatus(status) ? 1 : 0}|${sortableTime(timeStamp)}|${status}|${dedupeKey}`;
}

/**
 * The state row a webhook updates: its transactionId's, or, for a webhook without one
 * (Nuvei's own APM examples), its merchantTransactionId's in a `merchant:` namespace, so
 * that a merchant's numeric order id never lands on another payment's transactionId (the
 * schema refuses a transactionId in that namespace). ./payments.ts joins the two kinds of
 * row into payments.
 */
export function transactionKey(webhook: NuveiWebhook): string | null {
  if (webhook.transactionId !== undefined) return webhook.transactionId;
  return webhook.merchantTransactionId === undefined ? null : `${MERCHANT_KEY_PREFIX}${webhook.merchantTransactionId}`;
}

export function transactionFromWebhook(webhook: NuveiWebhook, dedupeKey: string): NuveiTransactionState | null {
  const transactionId = transactionKey(webhook);
  if (transactionId === null) return null;
  return {
    transactionId,
    merchantTransactionId: webhook.merchantTransactionId ?? null,
    status: webhook.result.status,
    precedence: nuveiPrecedence(webhook.result.status, webhook.timeStamp, dedupeKey),
    amount: webhook.amount ?? null,
    currency: webhook.currency ?? null,
    transactionType: webhook.transactionType ?? null,
    statusTime: webhook.timeStamp ?? null,
  };
}
