// What the consumer makes of each kind of Nuvouch callback (docs/contract.md §4, §5): which state it
// drives, which effects it owes and under which key, and what a handler is handed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EffectRegistry } from "../src/effects/registry";
import { approvalRow, consume, effectRows, eventRow, messageFor } from "./support/consumer";
import { deliver, recordingEnv } from "./support/gateway";
import { nuvouchApprovalEvent, nuvouchConnectionEvent, uniqueId } from "./support/payloads";

interface Seen {
  name: string;
  effectId: string;
  data: unknown;
  occurredAt: string | null;
  payload: unknown;
}

function watchingRegistry() {
  const seen: Seen[] = [];
  const watch =
    (name: string) =>
    (ctx: { effectId: string; event: { data: unknown; occurredAt: string | null }; payload: unknown }) =>
      void seen.push({
        name,
        effectId: ctx.effectId,
        data: ctx.event.data,
        occurredAt: ctx.event.occurredAt,
        payload: ctx.payload,
      });
  const registry = new EffectRegistry()
    .on("nuvouch:nuvouch.connection.accepted", "welcome", watch("welcome"))
    .on("nuvouch:nuvouch.approval.approved", "fulfil", watch("fulfil"))
    .on("nuvouch:*", "audit", watch("audit"));
  return { registry, seen };
}

const connectionRow = (id: string) =>
  env.DB.prepare("SELECT status FROM nuvouch_connections WHERE connection_session_id = ?").bind(id).first("status");

describe("a connection callback", () => {
  it("sets the connection, and owes its effects once per event, under the event's id", async () => {
    const { registry, seen } = watchingRegistry();
    const session = uniqueId("cs");
    const callback = nuvouchConnectionEvent("nuvouch.connection.accepted", { connectionSessionId: session });
    const message = await messageFor("nuvouch", callback);
    await consume([message], { registry });
    await consume([message], { registry, attempts: 2 });
    expect(await connectionRow(session)).toBe("accepted");
    expect(seen).toEqual([
      {
        name: "audit",
        effectId: `${message.id}:audit`,
        data: callback.data,
        occurredAt: callback.createdAt,
        payload: callback,
      },
      {
        name: "welcome",
        effectId: `${message.id}:welcome`,
        data: callback.data,
        occurredAt: callback.createdAt,
        payload: callback,
      },
    ]);
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", occurred_at: callback.createdAt });
  });

  it("another callback of the same session owes its own effects", async () => {
    const { registry, seen } = watchingRegistry();
    const session = uniqueId("cs");
    const first = await messageFor(
      "nuvouch",
      nuvouchConnectionEvent("nuvouch.connection.accepted", { connectionSessionId: session }),
    );
    const second = await messageFor(
      "nuvouch",
      nuvouchConnectionEvent("nuvouch.connection.revoked", { connectionSessionId: session }),
    );
    await consume([first], { registry });
    await consume([second], { registry });
    expect(seen.map((s) => s.effectId)).toEqual([`${first.id}:audit`, `${first.id}:welcome`, `${second.id}:audit`]);
    expect(await connectionRow(session)).toBe("revoked");
  });
});

describe("an approval callback", () => {
  it("hands its effect the callback's data and time, keyed by the approval", async () => {
    const { registry, seen } = watchingRegistry();
    const externalRequestId = uniqueId("pay");
    const callback = nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId });
    const message = await messageFor("nuvouch", callback);
    await consume([message], { registry });
    expect(seen).toEqual([
      expect.objectContaining({ name: "audit", effectId: `approval:${externalRequestId}:audit` }),
      {
        name: "fulfil",
        effectId: `approval:${externalRequestId}:fulfil`,
        data: callback.data,
        occurredAt: callback.createdAt,
        payload: callback,
      },
    ]);
  });
});

describe("an approval's decision time", () => {
  it("is the callback's decidedAt, else its createdAt, else unknown", async () => {
    const [withBoth, createdOnly, neither] = [uniqueId("both"), uniqueId("created"), uniqueId("neither")];
    const decided = nuvouchApprovalEvent("nuvouch.approval.approved", {
      externalRequestId: withBoth,
      decidedAt: "2026-11-20T09:59:58.000Z",
    });
    const { decidedAt: _a, ...withoutDecidedAt } = nuvouchApprovalEvent("nuvouch.approval.denied").data;
    const created = {
      ...nuvouchApprovalEvent("nuvouch.approval.denied"),
      data: { ...withoutDecidedAt, externalRequestId: createdOnly },
    };
    const { createdAt: _b, ...bare } = {
      ...nuvouchApprovalEvent("nuvouch.approval.expired"),
      data: { ...withoutDecidedAt, externalRequestId: neither },
    };
    await consume([
      await messageFor("nuvouch", decided),
      await messageFor("nuvouch", created),
      await messageFor("nuvouch", bare),
    ]);
    expect(await approvalRow(withBoth)).toMatchObject({ status: "approved", decided_at: "2026-11-20T09:59:58.000Z" });
    expect(await approvalRow(createdOnly)).toMatchObject({ status: "denied", decided_at: created.createdAt });
    expect(await approvalRow(neither)).toMatchObject({ status: "expired", decided_at: null });
  });
});

describe("a callback of a type this gateway has no rules for", () => {
  it("is recorded, drives no state, and reaches `nuvouch:*` handlers under its own id", async () => {
    const { registry, seen } = watchingRegistry();
    const callback = {
      id: uniqueId("evt"),
      type: "nuvouch.subject.updated",
      createdAt: "2026-11-21T08:00:00.000Z",
      data: { subjectId: uniqueId("cus"), connectionSessionId: uniqueId("cs") },
    };
    const message = await messageFor("nuvouch", callback);
    const result = await consume([message], { registry });
    expect(result.acked).toHaveLength(1);
    expect(seen).toEqual([
      {
        name: "audit",
        effectId: `${message.id}:audit`,
        data: callback.data,
        occurredAt: callback.createdAt,
        payload: callback,
      },
    ]);
    expect(await connectionRow(callback.data.connectionSessionId)).toBeNull();
    expect(await eventRow(message.id)).toMatchObject({ status: "processed", type: "nuvouch.subject.updated" });
    expect(await effectRows({ eventId: message.id })).toEqual([
      expect.objectContaining({ id: `${message.id}:audit`, status: "done" }),
    ]);
  });

  it("without data or a time: its handlers see null for both", async () => {
    const { registry, seen } = watchingRegistry();
    const callback = { id: uniqueId("evt"), type: "nuvouch.subject.deleted" };
    const { env: testEnv, sent } = recordingEnv();
    expect((await deliver("nuvouch", callback, { env: testEnv })).status).toBe(202);
    expect(sent).toEqual([expect.objectContaining({ dedupeKey: callback.id, occurredAt: null })]);
    await consume(sent, { registry });
    expect(seen).toEqual([expect.objectContaining({ name: "audit", data: null, occurredAt: null, payload: callback })]);
  });
});
