// The conflict rule (docs/contract.md §3): the first body recorded under (provider, dedupe key) is the
// event; another body under the same key is answered 2xx, counted on the event, never applied, and never
// runs an effect, whatever the arrival order or the queue's batching.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { approvalRow, consume, countingRegistry, effectRows, eventRow, messageFor } from "./support/consumer";
import { callGateway, deliver, NOW_S, recordingEnv } from "./support/gateway";
import { novaEvent, nuvouchApprovalEvent, uniqueId } from "./support/payloads";
import { TEST_SECRETS } from "./support/secrets";
import { sha256HexNode } from "./support/sign";

/** Two callbacks with one event id and opposite decisions: the adversarial pair of the review. */
async function conflictingPair(externalRequestId: string) {
  const approved = nuvouchApprovalEvent("nuvouch.approval.approved", { externalRequestId });
  const denied = { ...nuvouchApprovalEvent("nuvouch.approval.denied", { externalRequestId }), id: approved.id };
  return [await messageFor("nuvouch", approved), await messageFor("nuvouch", denied)] as const;
}

const api = (path: string) =>
  callGateway(
    new Request(`https://gateway.test/api${path}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
    }),
  );

describe("two bodies under one event id, in the consumer", () => {
  it("12 pairs in one batch: exactly one effect each, the decision of the body recorded, the other counted", async () => {
    const { registry, runs } = countingRegistry();
    const pairs = await Promise.all(Array.from({ length: 12 }, (_, i) => conflictingPair(uniqueId(`batch${i}`))));
    const result = await consume(pairs.flat(), { registry });
    expect(result.acked).toHaveLength(24);
    for (const [approved, denied] of pairs) {
      expect(approved.id).toBe(denied.id);
      const externalRequestId = JSON.parse(approved.payload as string).data.externalRequestId;
      const ran = runs.filter((run) => run.externalRequestId === externalRequestId);
      expect(ran).toHaveLength(1);
      const row = await eventRow(approved.id);
      // The effect that ran is the decision recorded, and the event holds that body.
      const decided = (await approvalRow(externalRequestId))?.status;
      expect(ran[0]?.name).toBe(decided === "approved" ? "on-approved" : "on-denied");
      expect(JSON.parse(row?.payload as string).type).toBe(`nuvouch.approval.${decided}`);
      expect(row).toMatchObject({ status: "processed", conflict_count: 1 });
      const other = decided === "approved" ? denied : approved;
      expect(row?.last_conflict_sha256).toBe(sha256HexNode(other.payload as string));
    }
  });

  it("an event recorded before bodies were hashed: the other decision under its id runs no effect", async () => {
    const { registry, runs } = countingRegistry();
    const externalRequestId = uniqueId("legacy");
    const [approved, denied] = await conflictingPair(externalRequestId);
    await consume([approved], { registry });
    // As migration 0005 left rows recorded before it: no body hash, so any body passes the conflict gate;
    // and still retrying (another of its effects failed), so a delivery under its id is processed.
    await env.DB.prepare("UPDATE events SET body_sha256 = NULL, status = 'retrying' WHERE id = ?")
      .bind(approved.id)
      .run();
    await consume([{ ...denied, bodySha256: undefined }], { registry });
    expect(runs.map((run) => run.name)).toEqual(["on-approved"]);
    expect(await approvalRow(externalRequestId)).toMatchObject({ status: "approved", decided_by_event: approved.id });
  });

  it("12 pairs as 24 concurrent batches: exactly one effect each", async () => {
    const { registry, runs } = countingRegistry();
    const pairs = await Promise.all(Array.from({ length: 12 }, (_, i) => conflictingPair(uniqueId(`apart${i}`))));
    await Promise.all(pairs.flat().map((message) => consume([message], { registry })));
    const perApproval = new Map<string, number>();
    for (const run of runs) perApproval.set(run.externalRequestId, (perApproval.get(run.externalRequestId) ?? 0) + 1);
    expect([...perApproval.values()]).toEqual(Array(12).fill(1));
    for (const [message] of pairs) expect(await eventRow(message.id)).toMatchObject({ conflict_count: 1 });
  });

  it("a conflicting body after the event was processed is counted and changes nothing", async () => {
    const { registry, runs } = countingRegistry();
    const externalRequestId = uniqueId("later");
    const [approved, denied] = await conflictingPair(externalRequestId);
    await consume([approved], { registry });
    await consume([denied], { registry });
    await consume([denied], { registry, attempts: 2 });
    expect(runs.map((run) => run.name)).toEqual(["on-approved"]);
    expect(await approvalRow(externalRequestId)).toMatchObject({ status: "approved", decided_by_event: approved.id });
    expect(await eventRow(approved.id)).toMatchObject({
      payload: approved.payload,
      conflict_count: 2,
      last_conflict_sha256: sha256HexNode(denied.payload as string),
    });
  });

  it("a conflicting body's dead letter neither kills the event nor buries its effects", async () => {
    const { registry, behaviour } = countingRegistry();
    behaviour.failures = 1;
    const [approved, denied] = await conflictingPair(uniqueId("dlq"));
    await consume([approved], { registry });
    expect(await effectRows({ eventId: approved.id })).toEqual([expect.objectContaining({ status: "failed" })]);
    await consume([denied], { queue: "webhook-events-dlq" });
    expect(await eventRow(approved.id)).toMatchObject({ status: "retrying" });
    expect(await effectRows({ eventId: approved.id })).toEqual([expect.objectContaining({ status: "failed" })]);
  });

  it("the effect of an approval runs once per externalRequestId whatever event ids and types arrive", async () => {
    const { registry, runs } = countingRegistry();
    const externalRequestId = uniqueId("many");
    const callbacks = await Promise.all(
      ["approved", "denied", "approved", "expired", "denied", "cancelled"].map((status) =>
        messageFor("nuvouch", nuvouchApprovalEvent(`nuvouch.approval.${status}`, { externalRequestId })),
      ),
    );
    await Promise.all(callbacks.map((message) => consume([message], { registry })));
    await consume(callbacks, { registry, attempts: 2 });
    expect(runs.filter((run) => run.externalRequestId === externalRequestId)).toHaveLength(1);
  });
});

describe("two bodies under one event id, at ingest", () => {
  it.each(["kv", "edge"])("%s mode: the second body gets 200 and is queued only to be counted", async (mode) => {
    const { env: testEnv, sent } = recordingEnv({ DEDUPE_MODE: mode } as Partial<Env>);
    const first = novaEvent();
    const second = { ...novaEvent(), eventId: first.eventId, type: "payment.refunded" };
    const accepted = (await (await deliver("nova", first, { env: testEnv })).json()) as { id: string };
    await consume(sent.splice(0));
    const answer = await deliver("nova", second, { env: testEnv, signedAt: NOW_S + 1, nowMs: (NOW_S + 1) * 1000 });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: "duplicate", id: accepted.id, conflict: true });
    expect(sent).toEqual([
      expect.objectContaining({ id: accepted.id, bodySha256: sha256HexNode(JSON.stringify(second)) }),
    ]);
    await consume(sent);
    const detail = (await (await api(`/events/${accepted.id}`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({
      type: first.type,
      status: "processed",
      conflicts: { count: 1, lastBodySha256: sha256HexNode(JSON.stringify(second)), lastAt: expect.any(String) },
      payload: first,
    });
    // The body retried as it was first sent is still a plain duplicate.
    const retry = await deliver("nova", first, { env: testEnv, signedAt: NOW_S + 2, nowMs: (NOW_S + 2) * 1000 });
    expect(await retry.json()).toEqual({ status: "duplicate", id: accepted.id });
  });

  it("every message ingest queues carries the hash of the bytes delivered", async () => {
    const { env: testEnv, sent } = recordingEnv();
    const body = ` ${JSON.stringify(novaEvent())}`;
    await deliver("nova", body, { env: testEnv });
    expect(sent).toEqual([expect.objectContaining({ bodySha256: sha256HexNode(body) })]);
  });
});
