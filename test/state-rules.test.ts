import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NuveiWebhook } from "../src/providers/nuvei/schema";
import { isFinalNuveiStatus, transactionFromWebhook } from "../src/providers/nuvei/state";
import { NuvouchApprovalEvent, NuvouchConnectionEvent } from "../src/providers/nuvouch/schema";
import {
  type ApprovalState,
  approvalFromCallback,
  approvalPrecedence,
  type ConnectionState,
  connectionFromCallback,
} from "../src/providers/nuvouch/state";
import { higherPrecedence } from "../src/providers/precedence";
import { consume, messageFor } from "./support/consumer";

const fold = <T extends { precedence: string }>(states: T[]): T | null =>
  states.reduce<T | null>((current, next) => higherPrecedence(current, next), null);

/** A permutation of the callbacks with some of them delivered more than once. */
const deliveries = <T>(callbacks: T[]) =>
  fc.array(fc.nat({ max: callbacks.length - 1 }), { maxLength: callbacks.length * 2 }).chain((extra) =>
    fc.shuffledSubarray([...callbacks, ...extra.map((i) => callbacks[i] as T)], {
      minLength: callbacks.length + extra.length,
    }),
  );

const connectionTypes = ["accepted", "revoked", "expired"] as const;
const nuveiStatuses = ["pending", "update", "updated", "redirect", "approved", "declined", "error", "authorizedOnly"];

function connection(type: (typeof connectionTypes)[number]): ConnectionState {
  return connectionFromCallback(
    NuvouchConnectionEvent.parse({
      id: `evt_${type}`,
      type: `nuvouch.connection.${type}`,
      data: { connectionSessionId: "cs_1", subjectId: "cus_1", contextKey: "ctx" },
    }),
  );
}

function nuvei(status: string, second: number, n: number) {
  const webhook = NuveiWebhook.parse({
    transactionId: "711",
    result: { status },
    timeStamp: `2026-11-23T10:00:${String(second).padStart(2, "0")}.000Z`,
  });
  return transactionFromWebhook(webhook, `hash${n}`) as NonNullable<ReturnType<typeof transactionFromWebhook>>;
}

describe("connection rules (pure)", () => {
  it("any permutation and duplication of a set of callbacks ends in the same state", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.constantFrom(...connectionTypes), { minLength: 1 })
          .chain((types) => fc.tuple(fc.constant(types), deliveries(types.map(connection)))),
        ([types, delivered]) => {
          expect(fold(delivered)).toEqual(fold(types.map(connection)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("revoked beats accepted, accepted beats a late expiry, expiry beats pending", () => {
    expect(fold([connection("revoked"), connection("accepted")])?.status).toBe("revoked");
    expect(fold([connection("accepted"), connection("expired")])?.status).toBe("accepted");
    expect(fold([connection("expired"), connection("accepted")])?.status).toBe("accepted");
    const pending = { ...connection("accepted"), status: "pending" as const, precedence: "0" };
    expect(fold([pending, connection("expired")])?.status).toBe("expired");
  });
});

describe("approval rules (pure)", () => {
  const decision = (type: string, id: string): ApprovalState =>
    approvalFromCallback(
      NuvouchApprovalEvent.parse({
        id,
        type: `nuvouch.approval.${type}`,
        data: { approvalRequestId: "apr", externalRequestId: "ext", subjectId: "s", contextKey: "c" },
      }),
      `gw_${id}`,
    );
  const created: ApprovalState = {
    ...decision("approved", "x"),
    status: "pending",
    precedence: approvalPrecedence("pending"),
    decidedByEvent: null,
  };

  it("a decision delivered any number of times, in any order with the creation, ends decided once", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("approved", "denied", "expired", "cancelled"),
        fc.integer({ min: 1, max: 4 }),
        (type, copies) => {
          const callbacks = [created, ...Array.from({ length: copies }, () => decision(type, "first"))];
          fc.assert(
            fc.property(deliveries(callbacks), (delivered) => {
              expect(fold(delivered)).toMatchObject({ status: type, decidedByEvent: "gw_first" });
            }),
            { numRuns: 20 },
          );
        },
      ),
    );
  });

  it("approved then a late pending stays approved; denied after approved changes nothing", () => {
    expect(fold([decision("approved", "a"), created])?.status).toBe("approved");
    expect(fold([decision("approved", "a"), decision("denied", "d")])).toMatchObject({
      status: "approved",
      decidedByEvent: "gw_a",
    });
  });
});

describe("Nuvei transaction rules (pure)", () => {
  it("any permutation and duplication ends in the same state, and never non-final over final", () => {
    const callback = fc.tuple(fc.constantFrom(...nuveiStatuses), fc.integer({ min: 0, max: 5 }));
    fc.assert(
      fc.property(
        fc.array(callback, { minLength: 1, maxLength: 6 }).chain((specs) => {
          const states = specs.map(([status, second], n) => nuvei(status, second, n));
          return fc.tuple(fc.constant(states), deliveries(states));
        }),
        ([states, delivered]) => {
          const final = fold(delivered);
          expect(final).toEqual(fold(states));
          if (states.some((s) => isFinalNuveiStatus(s.status)))
            expect(isFinalNuveiStatus(final?.status ?? "")).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("approved then a late pending stays approved", () => {
    expect(fold([nuvei("approved", 1, 1), nuvei("pending", 9, 2)])?.status).toBe("approved");
  });

  it("a callback without a timeStamp counts as the earliest, not the latest", () => {
    const undated = transactionFromWebhook(
      NuveiWebhook.parse({ transactionId: "711", result: { status: "approved" } }),
      "hash_undated",
    ) as NonNullable<ReturnType<typeof transactionFromWebhook>>;
    expect(fold([undated, nuvei("declined", 3, 1)])?.status).toBe("declined");
    expect(fold([nuvei("declined", 3, 1), undated])?.status).toBe("declined");
  });

  it("a merchantTransactionId never shares a record with a transactionId of the same digits", () => {
    const byTransaction = transactionFromWebhook(
      NuveiWebhook.parse({ transactionId: "1110000001", result: { status: "approved" } }),
      "h1",
    );
    const byMerchant = transactionFromWebhook(
      NuveiWebhook.parse({ merchantTransactionId: "1110000001", result: { status: "declined" } }),
      "h2",
    );
    expect(byTransaction?.transactionId).toBe("1110000001");
    expect(byMerchant?.transactionId).toBe("merchant:1110000001");
  });
});

describe("the SQL applies exactly the pure rule", () => {
  it("random Nuvei deliveries through the real consumer and D1 end in the fold's state", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...nuveiStatuses), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 5,
        }),
        async (specs) => {
          const transactionId = `sql_${++run}_${Date.now()}`;
          const webhooks = specs.map(([status, second]) => ({
            transactionId,
            result: { status },
            timeStamp: `2026-11-23T10:00:0${second}.000Z`,
          }));
          for (const webhook of webhooks) await consume([await messageFor("nuvei", webhook)]);
          const expected = fold(
            await Promise.all(
              webhooks.map(async (w) => {
                const m = await messageFor("nuvei", w);
                return transactionFromWebhook(NuveiWebhook.parse(w), m.dedupeKey) as NonNullable<
                  ReturnType<typeof transactionFromWebhook>
                >;
              }),
            ),
          );
          const row = await env.DB.prepare("SELECT status, precedence FROM nuvei_transactions WHERE transaction_id = ?")
            .bind(transactionId)
            .first();
          expect(row).toEqual({ status: expected?.status, precedence: expected?.precedence });
        },
      ),
      { numRuns: 25 },
    );
  });
});
