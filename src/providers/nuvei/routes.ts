import { Hono } from "hono";
import { z } from "zod";
import { jsonError } from "../../http/errors";
import { zodValidate } from "../../http/validate";
import { isMerchantKey, paymentsOf, toPayment } from "./payments";
import { getTransactionRow, transactionRowsOfMerchant } from "./store";

const ByMerchant = z.object({ merchantTransactionId: z.string().min(1).max(256) });

/** Nuvei's operator routes (docs/contract.md §7), mounted at `/api/nuvei` behind the admin token. */
export function nuveiApi() {
  const api = new Hono<{ Bindings: Env }>();

  // Nuvei recommends merchantTransactionId for mapping webhooks to transactions: the id
  // the integrator's own system holds. Every payment of it, newest first.
  api.get("/transactions", zodValidate("query", ByMerchant), async (c) => {
    const { merchantTransactionId } = c.req.valid("query");
    return c.json({ transactions: paymentsOf(await transactionRowsOfMerchant(c.env.DB, merchantTransactionId)) });
  });

  api.get("/transactions/:transactionId", async (c) => {
    const transactionId = c.req.param("transactionId");
    // `merchant:` rows are not transactions; the list above shows them.
    const row = isMerchantKey(transactionId) ? null : await getTransactionRow(c.env.DB, transactionId);
    if (!row) return jsonError(c, "transaction_not_found");
    // The payment may include webhooks that came without this transactionId.
    const payment = row.merchantTransactionId
      ? paymentsOf(await transactionRowsOfMerchant(c.env.DB, row.merchantTransactionId)).find(
          (p) => p.transactionId === transactionId,
        )
      : undefined;
    return c.json(payment ?? toPayment(row));
  });

  return api;
}
