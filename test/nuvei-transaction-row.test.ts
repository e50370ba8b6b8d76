// What one Nuvei webhook writes to its transaction row (docs/contract.md §5): every field it carried,
// under the key its ids give, and nothing at all when it carries no id.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nuveiPrecedence } from "../src/providers/nuvei/state";
import { consume, eventRow, messageFor } from "./support/consumer";
import { nuveiWebhook } from "./support/payloads";

const rowOf = (key: string) =>
  env.DB.prepare("SELECT * FROM nuvei_transactions WHERE transaction_id = ?")
    .bind(key)
    .first<Record<string, unknown>>();

/** Rows under no id at all: what a webhook without one would leave if it wrote anything. */
const keylessRows = () =>
  env.DB.prepare(
    "SELECT COUNT(*) AS n FROM nuvei_transactions WHERE transaction_id IS NULL OR transaction_id IN ('', 'merchant:', 'merchant:undefined')",
  ).first<number>("n");

describe("a Nuvei webhook's transaction row", () => {
  it("keeps every field the webhook carried, and the precedence it was applied under", async () => {
    const transactionId = `72${String(Date.now()).padStart(17, "0")}`;
    const webhook = nuveiWebhook("approved", { transactionId, timeStamp: "2026-11-23T10:00:02.123456789Z" });
    const message = await messageFor("nuvei", webhook);
    expect((await consume([message])).acked).toHaveLength(1);
    expect(await rowOf(transactionId)).toMatchObject({
      merchant_transaction_id: webhook.merchantTransactionId,
      status: "approved",
      status_time: "2026-11-23T10:00:02.123456789Z",
      precedence: nuveiPrecedence("approved", "2026-11-23T10:00:02.123456789Z", message.dedupeKey),
      amount: "10.5",
      currency: "USD",
      transaction_type: "Auth",
    });
  });

  it("a webhook with no merchantTransactionId, amount, currency, type or time leaves those empty", async () => {
    const transactionId = `73${String(Date.now()).padStart(17, "0")}`;
    const message = await messageFor("nuvei", { transactionId, result: { status: "pending" } });
    await consume([message]);
    expect(await rowOf(transactionId)).toMatchObject({
      merchant_transaction_id: null,
      status: "pending",
      status_time: null,
      amount: null,
      currency: null,
      transaction_type: null,
    });
  });

  it("a webhook with only a merchantTransactionId is kept under it, in the merchant namespace", async () => {
    const merchantTransactionId = `order_${Date.now()}`;
    const message = await messageFor("nuvei", { merchantTransactionId, result: { status: "approved" } });
    await consume([message]);
    expect(await rowOf(`merchant:${merchantTransactionId}`)).toMatchObject({
      merchant_transaction_id: merchantTransactionId,
      status: "approved",
    });
  });

  it("a webhook with neither id is recorded and writes no transaction row", async () => {
    const message = await messageFor("nuvei", { result: { status: "approved" }, amount: "1.00", currency: "EUR" });
    const result = await consume([message]);
    expect(result.acked).toHaveLength(1);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed" });
    expect(await keylessRows()).toBe(0);
  });
});
