import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EffectRegistry } from "../src/effects/registry";
import type { NuveiWebhook } from "../src/providers/nuvei/schema";
import { consume, messageFor } from "./support/consumer";

let seq = 0;
const fresh = (label: string) => `${label}_${++seq}_${Date.now().toString(36)}`;

const FORWARD_SINK = () => ({ ...env, FORWARD_URL: `${env.FORWARD_SINK_URL}/ok`, FORWARD_TIMEOUT_MS: "1000" }) as Env;

async function forwardedBody(eventId: string): Promise<string | undefined> {
  const all = (await (await fetch(`${env.FORWARD_SINK_URL}/_received`)).json()) as {
    headers: Record<string, string>;
    body: string;
  }[];
  return all.find((r) => r.headers["webhook-id"] === eventId)?.body;
}

async function row(transactionId: string) {
  return env.DB.prepare("SELECT * FROM nuvei_transactions WHERE transaction_id = ?")
    .bind(transactionId)
    .first<Record<string, unknown>>();
}

describe("Nuvei numbers are kept digit for digit (issue 9 item 3)", () => {
  // Written as JSON text: JSON.stringify of a JS number could never carry these digits.
  const body = (transactionId: string, merchantTransactionId: string, amount: string) =>
    `{"transactionId":${transactionId},"merchantTransactionId":${merchantTransactionId},"amount":${amount},` +
    `"currency":"USD","result":{"status":"approved"},"partialApproval":{"requestedAmount":${amount}}}`;

  it("stores a 19-digit merchantTransactionId, 10.10 and a 19-significant-digit amount as sent", async () => {
    const transactionId = `9${String(Date.now()).padStart(18, "0")}`;
    await consume([await messageFor("nuvei", body(transactionId, "1234567890123456789", "10.10"))]);
    expect(await row(transactionId)).toMatchObject({
      transaction_id: transactionId,
      merchant_transaction_id: "1234567890123456789",
      amount: "10.10",
    });

    const other = `8${String(Date.now()).padStart(18, "0")}`;
    await consume([await messageFor("nuvei", body(other, "1234567890123456788", "12345678901234567.89"))]);
    expect(await row(other)).toMatchObject({
      merchant_transaction_id: "1234567890123456788",
      amount: "12345678901234567.89",
    });
  });

  it("hands effect handlers and the forwarded event the source text of every number", async () => {
    const seen: NuveiWebhook[] = [];
    const registry = new EffectRegistry().on("nuvei:transaction.approved", "nuvei-digits", ({ payload }) => {
      seen.push(payload);
    });
    const transactionId = `7${String(Date.now()).padStart(18, "0")}`;
    const message = await messageFor("nuvei", body(transactionId, "1234567890123456787", "12345678901234567.89"));
    await consume([message], { registry, env: FORWARD_SINK() });

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      transactionId,
      merchantTransactionId: "1234567890123456787",
      amount: "12345678901234567.89",
      partialApproval: { requestedAmount: "12345678901234567.89" },
    });
    const forwarded = await forwardedBody(message.id);
    expect(forwarded).toContain(`"transactionId":"${transactionId}"`);
    expect(forwarded).toContain('"merchantTransactionId":"1234567890123456787"');
    expect(forwarded).toContain('"amount":"12345678901234567.89"');
    expect(forwarded).toContain('"requestedAmount":"12345678901234567.89"');
  });

  it("keeps an amount sent as a string as it is", async () => {
    const transactionId = fresh("tx_string_amount");
    const payload = { transactionId, amount: "0010.100", result: { status: "pending" } };
    await consume([await messageFor("nuvei", payload)]);
    expect(await row(transactionId)).toMatchObject({ amount: "0010.100" });
  });
});
