import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NuveiWebhook } from "../src/providers/nuvei/schema";
import { isFinalNuveiStatus, transactionFromWebhook } from "../src/providers/nuvei/state";
import { NuvouchApprovalEvent, NuvouchConnectionEvent } from "../src/providers/nuvouch/schema";
import {
  type ApprovalState,
  type ApprovalStatus,
  approvalFromCallback,
  approvalPrecedence,
  type ConnectionState,
  type ConnectionStatus,
  connectionFromCallback,
  connectionPrecedence,
} from "../src/providers/nuvouch/state";
import { claimApprovalIntent, recordApprovalCreated } from "../src/providers/nuvouch/store";
import { higherPrecedence } from "../src/providers/precedence";
import { consume, countingRegistry, effectRows, messageFor } from "./support/consumer";
import { NOW_MS } from "./support/gateway";
import { nuvouchApprovalEvent, nuvouchConnectionEvent } from "./support/payloads";

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

describe("Nuvouch's stored precedences", () => {
  // STORED in nuvouch_connections.precedence and nuvouch_approvals.precedence, and compared as
  // strings there: a change of these values needs a migration that rewrites the stored rows
  // (as migrations/0007 did for Nuvei's), or old and new rows compare wrongly.
  it("are pinned", () => {
    const connections: ConnectionStatus[] = ["pending", "expired", "accepted", "revoked"];
    expect(connections.map(connectionPrecedence)).toEqual(["0", "1", "2", "3"]);
    const approvals: ApprovalStatus[] = ["creating", "pending", "approved", "denied", "expired", "cancelled"];
    expect(approvals.map(approvalPrecedence)).toEqual(["0", "1", "2", "2", "2", "2"]);
  });
});

describe("the SQL applies exactly the pure rule (Nuvouch)", () => {
  const connectionStatuses = ["accepted", "revoked", "expired"] as const;
  const decisions = ["approved", "denied", "expired", "cancelled"] as const;
  let run = 0;

  it("random connection callbacks through the real consumer and D1 end in the fold's state", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...connectionStatuses), { minLength: 1, maxLength: 5 }),
        async (types) => {
          const connectionSessionId = `cs_sql_${++run}_${NOW_MS}`;
          const callbacks = types.map((type) =>
            nuvouchConnectionEvent(`nuvouch.connection.${type}`, { connectionSessionId }),
          );
          for (const callback of callbacks) await consume([await messageFor("nuvouch", callback)]);
          const expected = fold(
            callbacks.map((callback) => connectionFromCallback(NuvouchConnectionEvent.parse(callback))),
          );
          const row = await env.DB.prepare(
            "SELECT status, precedence FROM nuvouch_connections WHERE connection_session_id = ?",
          )
            .bind(connectionSessionId)
            .first();
          expect(row).toEqual({ status: expected?.status, precedence: expected?.precedence });
        },
      ),
      { numRuns: 20 },
    );
  });

  it("random decisions, with or without the integrator's creation, end in the fold's state, the effect run once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...decisions), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat({ max: 4 }), { nil: undefined }),
        async (types, createdAfter) => {
          const externalRequestId = `ext_sql_${++run}_${NOW_MS}`;
          const { registry, runs } = countingRegistry();
          const now = new Date(NOW_MS).toISOString();
          const states: ApprovalState[] = [];
          const callbacks = types.map((type) =>
            nuvouchApprovalEvent(`nuvouch.approval.${type}`, { externalRequestId }),
          );
          // The integrator's request: its intent first (`creating`), Nuvouch's answer (`pending`)
          // after `createdAfter` of the callbacks, which may overtake it.
          if (createdAfter !== undefined) {
            const request = { subjectId: "cus_123", contextKey: "merchant:acct_1" };
            await claimApprovalIntent(
              env.DB,
              { externalRequestId, ...request, request: {}, requestSha256: "f".repeat(64) },
              now,
            );
            states.push({
              ...approvalFromCallback(NuvouchApprovalEvent.parse(callbacks[0]), ""),
              status: "creating",
              precedence: approvalPrecedence("creating"),
              decidedByEvent: null,
            });
          }
          for (const [i, callback] of callbacks.entries()) {
            if (i === createdAfter) {
              await recordApprovalCreated(env.DB, externalRequestId, "apr_1", now);
              states.push({
                ...(states[0] as ApprovalState),
                status: "pending",
                precedence: approvalPrecedence("pending"),
              });
            }
            const message = await messageFor("nuvouch", callback);
            await consume([message], { registry });
            states.push(approvalFromCallback(NuvouchApprovalEvent.parse(callback), message.id));
          }
          if (createdAfter !== undefined && createdAfter >= callbacks.length) {
            await recordApprovalCreated(env.DB, externalRequestId, "apr_1", now);
            states.push({
              ...(states[0] as ApprovalState),
              status: "pending",
              precedence: approvalPrecedence("pending"),
            });
          }
          const expected = fold(states);
          const row = await env.DB.prepare(
            "SELECT status, precedence, decided_by_event AS decidedByEvent FROM nuvouch_approvals WHERE external_request_id = ?",
          )
            .bind(externalRequestId)
            .first();
          expect(row).toEqual({
            status: expected?.status,
            precedence: expected?.precedence,
            decidedByEvent: expected?.decidedByEvent,
          });
          // countingRegistry has effects for approved and denied: one run, the deciding event's.
          const ran = runs.filter((r) => r.externalRequestId === externalRequestId);
          expect(ran).toHaveLength(["approved", "denied"].includes(expected?.status ?? "") ? 1 : 0);
          const effects = await effectRows({ prefix: `approval:${externalRequestId}:` });
          expect(effects.map((effect) => effect.event_id)).toEqual(ran.length ? [expected?.decidedByEvent] : []);
        },
      ),
      { numRuns: 20 },
    );
  });
});
