import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/crypto/hmac";
import { EffectRegistry } from "../src/effects/registry";
import { nuvei } from "../src/providers/nuvei";
import type { NuveiWebhook } from "../src/providers/nuvei/schema";
import { isParseFailure, type ParsedEvent, type ParseFailure } from "../src/providers/types";
import { consume, messageFor } from "./support/consumer";
import { callGateway, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { signedHeaders } from "./support/sign";

const FORM = "application/x-www-form-urlencoded";

/** The provider's own parse, as ingest calls it after verification. */
async function parseAs(text: string, contentType: string): Promise<ParsedEvent | ParseFailure> {
  const body = new TextEncoder().encode(text);
  return nuvei.parse(text, {
    headers: new Headers({ "content-type": contentType }),
    body,
    bodySha256: () => sha256Hex(body),
  });
}

/** A signed delivery through the real ingest route; `sent` holds what it queued. */
async function ingest(text: string, contentType: string) {
  const { env: testEnv, sent } = recordingEnv();
  const headers = { ...signedHeaders("nuvei", text, NOW_S), "content-type": contentType };
  const response = await callGateway(webhookRequest("nuvei", text, headers), { env: testEnv });
  return { response, sent };
}

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

describe("Nuvei form bodies (issue 9 item 9)", () => {
  it.each([
    ["bytes that are not UTF-8", "result.status=approved&buyerName=%FF%FE"],
    ["a lone percent sign", "result.status=approved&amount=10%"],
    ["a percent sign before non-hex digits", "result.status=approved&currency=%G1SD"],
    ["an invalid escape in a field name", "result.status=approved&na%ZZme=x"],
    ["a truncated multi-byte sequence", "result.status=approved&buyerName=%C3"],
  ])("refuses %s instead of replacing it with U+FFFD", async (_name, text) => {
    const parsed = await parseAs(text, FORM);
    expect(parsed).toEqual({ error: "payload_invalid", message: expect.stringMatching(/percent-encoding/) });
  });

  it("decodes valid escapes and + as before", async () => {
    const parsed = await parseAs("result.status=approved&buyerName=J%C3%BCrgen+M%C3%BCller&note=a%2Bb%3D", FORM);
    if (isParseFailure(parsed)) throw new Error(parsed.message);
    expect(JSON.parse(parsed.payloadJson)).toEqual({
      result: { status: "approved" },
      buyerName: "Jürgen Müller",
      note: "a+b=",
    });
  });

  it("accepts fields named like Object.prototype members, at any depth", async () => {
    const text =
      "result.status=approved&toString=1&valueOf=2&hasOwnProperty=3&isPrototypeOf=4" +
      "&result.toString=5&paymentOption.valueOf.hasOwnProperty=6";
    const parsed = await parseAs(text, FORM);
    if (isParseFailure(parsed)) throw new Error(parsed.message);
    expect(JSON.parse(parsed.payloadJson)).toEqual({
      result: { status: "approved", toString: "5" },
      toString: "1",
      valueOf: "2",
      hasOwnProperty: "3",
      isPrototypeOf: "4",
      paymentOption: { valueOf: { hasOwnProperty: "6" } },
    });
  });

  it("still refuses a field given twice, and __proto__, constructor and prototype segments", async () => {
    for (const text of [
      "result.status=approved&toString=1&toString=2",
      "result.status=approved&__proto__.polluted=1",
      "result.status=approved&constructor=1",
      "result.status=approved&paymentOption.prototype.x=1",
      "result.status=approved&result.__proto__=1",
    ]) {
      expect(await parseAs(text, FORM)).toMatchObject({ error: "payload_invalid" });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a form webhook with a toString field drives the transaction like its JSON twin", async () => {
    const transactionId = fresh("tx_form");
    const text = `transactionId=${transactionId}&result.status=approved&amount=10.10&currency=EUR&toString=x`;
    const { response, sent } = await ingest(text, FORM);
    expect(response.status).toBe(202);
    await consume(sent);
    expect(await row(transactionId)).toMatchObject({ status: "approved", amount: "10.10", currency: "EUR" });
  });
});
