import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NuveiPayment as Payment } from "../src/providers/nuvei/payments";
import { nuveiPrecedence } from "../src/providers/nuvei/state";
import { consume, messageFor } from "./support/consumer";
import { callGateway, NOW_MS } from "./support/gateway";
import { uniqueId } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { sha256HexNode } from "./support/sign";

// One payment is one row, whichever ids its webhooks carry (issue 15 item 2, docs/contract.md §5
// and §7): webhooks through the real consumer and D1, answers through the operator API.

async function api(path: string) {
  return callGateway(
    new Request(`https://gateway.test/api/nuvei${path}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
    }),
  );
}

async function listed(merchantTransactionId: string): Promise<Payment[]> {
  const response = await api(`/transactions?merchantTransactionId=${encodeURIComponent(merchantTransactionId)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { transactions: Payment[] }).transactions;
}

async function byTransactionId(transactionId: string): Promise<Payment | null> {
  const response = await api(`/transactions/${encodeURIComponent(transactionId)}`);
  if (response.status === 404) return null;
  expect(response.status).toBe(200);
  return (await response.json()) as Payment;
}

async function deliverAll(webhooks: object[], nowMs = NOW_MS) {
  for (const webhook of webhooks) await consume([await messageFor("nuvei", webhook)], { nowMs });
}

describe("a payment known first by merchantTransactionId, then by transactionId", () => {
  it("is one row whichever webhook comes first, in the list and by transactionId", async () => {
    for (const order of ["pending first", "approved first"]) {
      const merchantTransactionId = uniqueId("order");
      const transactionId = uniqueId("tx");
      // Nuvei's APM example: the pending webhook carries no transactionId.
      const pending = {
        merchantTransactionId,
        amount: "10.10",
        currency: "USD",
        transactionType: "Auth",
        result: { status: "pending" },
        timeStamp: "2024-08-28T12:11:47.337302438Z",
      };
      const approved = {
        transactionId,
        merchantTransactionId,
        result: { status: "approved" },
        timeStamp: "2024-08-28T12:15:00.000000001Z",
      };
      await deliverAll(order === "pending first" ? [pending, approved] : [approved, pending]);

      const expected = {
        transactionId,
        merchantTransactionId,
        status: "approved",
        amount: "10.10",
        currency: "USD",
        transactionType: "Auth",
        updatedAt: new Date(NOW_MS).toISOString(),
      };
      expect(await listed(merchantTransactionId), order).toEqual([expected]);
      expect(await byTransactionId(transactionId), order).toEqual(expected);
    }
  });

  it("a webhook without merchantTransactionId joins once another links its transactionId", async () => {
    const merchantTransactionId = uniqueId("order");
    const transactionId = uniqueId("tx");
    await deliverAll([
      { transactionId, result: { status: "pending" }, timeStamp: "2026-11-23T10:00:01Z", amount: "5.00" },
      { merchantTransactionId, result: { status: "update" }, timeStamp: "2026-11-23T10:00:02Z" },
    ]);
    expect(await listed(merchantTransactionId)).toMatchObject([{ transactionId: null, status: "update" }]);
    expect(await byTransactionId(transactionId)).toMatchObject({ merchantTransactionId: null, status: "pending" });

    await deliverAll([{ transactionId, merchantTransactionId, result: { status: "pending" } }]);
    const joined = { transactionId, merchantTransactionId, status: "update", amount: "5.00" };
    expect(await listed(merchantTransactionId)).toMatchObject([joined]);
    expect(await byTransactionId(transactionId)).toMatchObject(joined);
  });

  it("a field a later webhook leaves out is kept, in either order", async () => {
    for (const order of [0, 1]) {
      const merchantTransactionId = uniqueId("order");
      const transactionId = uniqueId("tx");
      const webhooks = [
        { merchantTransactionId, amount: "99.90", currency: "EUR", result: { status: "pending" } },
        { transactionId, merchantTransactionId, result: { status: "approved" }, timeStamp: "2026-11-23T10:00:00Z" },
      ];
      await deliverAll(order ? webhooks.reverse() : webhooks);
      expect(await byTransactionId(transactionId)).toMatchObject({
        status: "approved",
        amount: "99.90",
        currency: "EUR",
      });
    }
  });
});

describe("a merchantTransactionId reused for a second attempt (a new transactionId)", () => {
  it("lists each attempt from its own webhooks, and the ones without transactionId apart", async () => {
    const merchantTransactionId = uniqueId("order");
    const [first, second] = [uniqueId("tx_first"), uniqueId("tx_second")];
    await deliverAll(
      [
        {
          transactionId: first,
          merchantTransactionId,
          result: { status: "pending" },
          timeStamp: "2026-11-23T10:00:00Z",
        },
        // No transactionId: with one attempt known, it is that attempt's.
        { merchantTransactionId, result: { status: "approved" }, timeStamp: "2026-11-23T10:05:00Z" },
      ],
      NOW_MS,
    );
    expect(await listed(merchantTransactionId)).toMatchObject([{ transactionId: first, status: "approved" }]);

    // The second transactionId shows the reuse: the approval can no longer be attributed.
    await deliverAll(
      [
        {
          transactionId: second,
          merchantTransactionId,
          result: { status: "pending" },
          timeStamp: "2026-11-23T10:06:00Z",
        },
      ],
      NOW_MS + 1000,
    );
    expect(await listed(merchantTransactionId)).toMatchObject([
      { transactionId: second, status: "pending", updatedAt: new Date(NOW_MS + 1000).toISOString() },
      { transactionId: first, status: "pending" },
      { transactionId: null, status: "approved" },
    ]);
    expect(await byTransactionId(first)).toMatchObject({ status: "pending" });
    expect(await byTransactionId(second)).toMatchObject({ status: "pending" });
  });
});

describe("GET /api/nuvei/transactions", () => {
  it("answers an empty list for an unknown merchant id, 400 without one", async () => {
    expect(await listed(uniqueId("unknown"))).toEqual([]);
    for (const query of ["", "?merchantTransactionId=", `?merchantTransactionId=${"x".repeat(257)}`]) {
      const response = await api(`/transactions${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_query" } });
    }
  });

  it("needs the admin token", async () => {
    const response = await callGateway(
      new Request("https://gateway.test/api/nuvei/transactions?merchantTransactionId=x"),
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("is not reachable as /transactions/merchant:<id>, and no transactionId may take that form", async () => {
    const merchantTransactionId = uniqueId("order");
    await deliverAll([{ merchantTransactionId, result: { status: "pending" } }]);
    expect(await listed(merchantTransactionId)).toHaveLength(1);
    const response = await api(`/transactions/merchant:${merchantTransactionId}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "transaction_not_found" } });
    await expect(
      messageFor("nuvei", { transactionId: `merchant:${merchantTransactionId}`, result: { status: "approved" } }),
    ).rejects.toThrow(/merchant:/);
  });
});

// ---------------------------------------------------------------------------------------
// Property: whatever the order, duplication and batching, the answers equal a reference
// model written here from the rule's statement, straight from the set of webhooks (not
// from the code's rows and join).

interface Spec {
  attempt: 0 | 1 | null; // which transactionId, or none
  withMerchant: boolean; // a webhook with a transactionId may lack the merchant id
  status: string;
  time: string | undefined;
  amount: string | undefined;
  currency: string | undefined;
}

const STATUSES = ["pending", "update", "redirect", "approved", "declined", "error", "authorizedOnly"];
const TIMES = ["2026-11-23T10:00:00.000000001Z", "2026-11-23T10:00:00.000000002Z", "2026-11-23T10:00:01Z", undefined];

const spec: fc.Arbitrary<Spec> = fc.record({
  attempt: fc.constantFrom(0, 1, null, null),
  withMerchant: fc.boolean(),
  status: fc.constantFrom(...STATUSES),
  time: fc.constantFrom(...TIMES),
  amount: fc.option(fc.constantFrom("10.10", "10.5", "12345678901234567.89"), { nil: undefined }),
  currency: fc.option(fc.constantFrom("USD", "EUR"), { nil: undefined }),
});

function webhookOf(s: Spec, ids: { merchant: string; attempts: [string, string] }) {
  return {
    ...(s.attempt === null ? {} : { transactionId: ids.attempts[s.attempt] }),
    ...(s.attempt === null || s.withMerchant ? { merchantTransactionId: ids.merchant } : {}),
    result: { status: s.status },
    ...(s.time ? { timeStamp: s.time } : {}),
    ...(s.amount ? { amount: s.amount } : {}),
    ...(s.currency ? { currency: s.currency } : {}),
  };
}

type Webhook = ReturnType<typeof webhookOf>;
type Expected = Pick<Payment, "transactionId" | "status" | "amount" | "currency">;

/** The rule, stated directly on the webhooks of one merchant id and its transactionIds. */
function referenceModel(webhooks: Webhook[], merchant: string) {
  const distinct = [...new Map(webhooks.map((w) => [JSON.stringify(w), w])).values()];
  const precedence = (w: Webhook) => nuveiPrecedence(w.result.status, w.timeStamp, sha256HexNode(JSON.stringify(w)));
  const state = (transactionId: string | null, group: Webhook[]): Expected => {
    const top = <K extends "amount" | "currency">(key: K) =>
      group.filter((w) => w[key] !== undefined).sort((a, b) => (precedence(a) < precedence(b) ? 1 : -1))[0]?.[key] ??
      null;
    const winner = [...group].sort((a, b) => (precedence(a) < precedence(b) ? 1 : -1))[0] as Webhook;
    return { transactionId, status: winner.result.status, amount: top("amount"), currency: top("currency") };
  };
  const own = (id: string) => distinct.filter((w) => w.transactionId === id);
  const withoutId = distinct.filter((w) => w.transactionId === undefined);
  // The merchant id's attempts: the transactionIds seen with it.
  const attempts = [
    ...new Set(
      distinct.filter((w) => w.transactionId && w.merchantTransactionId === merchant).map((w) => w.transactionId),
    ),
  ] as string[];
  const all = [...new Set(distinct.flatMap((w) => (w.transactionId ? [w.transactionId] : [])))];
  // By transactionId: every transactionId, joined with the webhooks without one when it
  // is the merchant id's only attempt.
  const byId = new Map(
    all.map((id) => [
      id,
      state(id, attempts.length === 1 && attempts[0] === id ? [...own(id), ...withoutId] : own(id)),
    ]),
  );
  const list =
    attempts.length === 1
      ? [byId.get(attempts[0] as string) as Expected]
      : [...attempts.map((id) => byId.get(id) as Expected), ...(withoutId.length ? [state(null, withoutId)] : [])];
  return { byId, list };
}

const byKey = (a: Expected, b: Expected) => (a.transactionId ?? "").localeCompare(b.transactionId ?? "");

describe("property: one final state per payment, whatever the order", () => {
  it("random webhooks with and without transactionId, delivered in any order, duplicated and batched", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { minLength: 1, maxLength: 6 }).chain((specs) =>
          fc.tuple(
            fc.constant(specs),
            // A delivery order with repeats, cut into consumer batches of distinct webhooks.
            fc.shuffledSubarray([...specs.keys(), ...specs.keys()], { minLength: specs.length }),
            fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 12, maxLength: 12 }),
          ),
        ),
        async ([specs, order, batchSizes]) => {
          run++;
          const ids = {
            merchant: `order_p${run}_${Date.now().toString(36)}`,
            attempts: [`71${run}${Date.now()}1`, `71${run}${Date.now()}2`] as [string, string],
          };
          const webhooks = specs.map((s) => webhookOf(s, ids));
          // Every webhook at least once, then the shuffled order with its repeats.
          const sequence = [...new Set([...order, ...specs.keys()])].concat(order);
          const messages = await Promise.all(sequence.map((i) => messageFor("nuvei", webhooks[i])));
          for (let at = 0, b = 0; at < messages.length; b++) {
            const batch: typeof messages = [];
            while (at < messages.length && batch.length < (batchSizes[b % batchSizes.length] as number)) {
              if (batch.some((m) => m.id === messages[at]?.id)) break;
              batch.push(messages[at++] as (typeof messages)[number]);
            }
            await consume(batch);
          }

          const expected = referenceModel(webhooks, ids.merchant);
          const pick = ({ transactionId, status, amount, currency }: Payment): Expected => ({
            transactionId,
            status,
            amount,
            currency,
          });
          expect((await listed(ids.merchant)).map(pick).sort(byKey)).toEqual([...expected.list].sort(byKey));
          for (const [id, state] of expected.byId) expect(pick((await byTransactionId(id)) as Payment)).toEqual(state);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
