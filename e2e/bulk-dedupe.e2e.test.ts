// Load-shaped end to end: 1,000 distinct signed deliveries across the three providers plus
// 200 byte-identical re-sends, shuffled and sent 16 at a time to a real `wrangler dev`, must
// leave exactly 1,000 processed events and one effect per approval decision, run once. It times
// nothing: `npm run bench:drain` measures rates.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toDottedForm } from "../src/providers/nuvei/simulator.node.ts";
import { newStory, seededRandom } from "../src/providers/simulation.node.ts";
import { buildPayload, type ProviderName, simulators } from "../src/providers/simulators.node.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";
import {
  type Answer,
  type ApiEvent,
  adminGet,
  getEvent,
  listAllEvents,
  mapLimit,
  processedEvent,
  sendSigned,
} from "./support/operator.ts";

const CONCURRENCY = 16;
const DRAIN_TIMEOUT_MS = 120_000;
const NOVA_EVENTS = 400;
const NUVEI_TRANSACTIONS = 100; // × pending, update, approved = 300 webhooks
const NUVOUCH_APPROVED = 200;
const NUVOUCH_DENIED = 50;
const NUVOUCH_CONNECTIONS = 50;
const DISTINCT = NOVA_EVENTS + NUVEI_TRANSACTIONS * 3 + NUVOUCH_APPROVED + NUVOUCH_DENIED + NUVOUCH_CONNECTIONS;
const RESENDS = 200;

interface Delivery {
  /** Index of the distinct delivery this one is (a re-send shares its original's index). */
  index: number;
  provider: ProviderName;
  body: string;
  contentType: string;
  type: string;
  /** The approval decision's effect this delivery must leave, if any. */
  effect?: { externalRequestId: string; name: string };
  transactionId?: string;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

let gateway: DevGateway;
before(async () => {
  gateway = await startDevGateway();
});
after(async () => {
  await gateway?.stop();
});

function buildDeliveries(random: () => number): Delivery[] {
  const run = Math.floor(random() * 36 ** 6).toString(36);
  const distinct: Omit<Delivery, "index">[] = [];
  const novaTypes = simulators.nova.events;
  for (let i = 0; i < NOVA_EVENTS; i++) {
    const type = novaTypes[i % novaTypes.length] as string;
    const payload = buildPayload("nova", type, newStory({}), { eventId: `evt_bulk_${run}_${i}` });
    distinct.push({ provider: "nova", body: JSON.stringify(payload), contentType: "application/json", type });
  }
  for (let i = 0; i < NUVEI_TRANSACTIONS; i++) {
    const transactionId = `7119${String(i).padStart(15, "0")}`;
    const story = newStory({ transactionId, merchantTransactionId: `order_bulk_${run}_${i}` });
    for (const status of ["pending", "update", "approved"]) {
      const payload = buildPayload("nuvei", status, story);
      // Every tenth transaction's final webhook comes as name-value pairs (docs/contract.md §4).
      const form = status === "approved" && i % 10 === 0;
      distinct.push({
        provider: "nuvei",
        body: form ? toDottedForm(payload) : JSON.stringify(payload),
        contentType: form ? "application/x-www-form-urlencoded" : "application/json",
        type: `transaction.${status}`,
        transactionId,
      });
    }
  }
  const nuvouch = (event: string, externalRequestId: string, effect?: string) => {
    const payload = buildPayload("nuvouch", event, newStory({ externalRequestId }));
    distinct.push({
      provider: "nuvouch",
      body: JSON.stringify(payload),
      contentType: "application/json",
      type: `nuvouch.${event}`,
      ...(effect ? { effect: { externalRequestId, name: effect } } : {}),
    });
  };
  for (let i = 0; i < NUVOUCH_APPROVED; i++) nuvouch("approval.approved", `bulk_${run}_a${i}`, "approval-approved");
  for (let i = 0; i < NUVOUCH_DENIED; i++) nuvouch("approval.denied", `bulk_${run}_d${i}`, "approval-denied");
  for (let i = 0; i < NUVOUCH_CONNECTIONS; i++) nuvouch("connection.accepted", `bulk_${run}_c${i}`);

  const originals = distinct.map((delivery, index) => ({ ...delivery, index }));
  // Half the re-sends repeat approval callbacks, where a duplicate would cost a second effect.
  const approvals = originals.filter((d) => d.effect);
  const pick = <T>(from: T[]) => from[Math.floor(random() * from.length)] as T;
  const resends = Array.from({ length: RESENDS }, (_, i) => ({ ...(i % 2 ? pick(approvals) : pick(originals)) }));
  const all = [...originals, ...resends];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as Delivery, all[i] as Delivery];
  }
  return all;
}

describe("bulk dedupe under wrangler dev", () => {
  const deliveries = buildDeliveries(seededRandom(1_000_200));
  const answers: Answer[] = [];
  const expectedIds = new Map<number, string>();

  it("the plan holds 1,000 distinct bodies and 200 byte-identical re-sends", () => {
    assert.equal(DISTINCT, 1000);
    assert.equal(deliveries.length, DISTINCT + RESENDS);
    assert.equal(new Set(deliveries.map((d) => `${d.provider}\n${d.body}`)).size, DISTINCT);
    assert.equal(new Set(deliveries.map((d) => d.index)).size, DISTINCT);
  });

  it(`sending 1,000 distinct and 200 duplicate deliveries, ${CONCURRENCY} at a time, is answered 202 or 200 only`, {
    timeout: 300_000,
  }, async () => {
    answers.push(
      ...(await mapLimit(deliveries, CONCURRENCY, (d) => sendSigned(gateway, d.provider, d.body, d.contentType))),
    );

    const unexpected = answers
      .map((answer, i) => ({ answer, delivery: deliveries[i] as Delivery }))
      .filter(({ answer }) => answer.status !== 202 && answer.status !== 200);
    assert.deepEqual(
      unexpected.slice(0, 5).map(({ answer, delivery }) => [delivery.provider, delivery.type, answer]),
      [],
      `${unexpected.length} deliveries answered neither 202 nor 200`,
    );
    for (const [i, answer] of answers.entries()) {
      const delivery = deliveries[i] as Delivery;
      assert.equal(answer.body.status, answer.status === 202 ? "accepted" : "duplicate");
      assert.ok(answer.body.id, `answer ${i} carries the gateway id`);
      // Every copy of one body names the same event.
      const known = expectedIds.get(delivery.index);
      if (known === undefined) expectedIds.set(delivery.index, answer.body.id);
      else assert.equal(answer.body.id, known, `copies of delivery ${delivery.index} name one event`);
    }
    assert.equal(new Set(expectedIds.values()).size, DISTINCT);
    assert.ok(answers.filter((a) => a.status === 202).length >= DISTINCT, "every distinct delivery was accepted");
  });

  it("exactly 1,000 events end processed, none retrying or dead", { timeout: 300_000 }, async () => {
    assert.equal(expectedIds.size, DISTINCT, "the sending test ran");
    let last: ApiEvent[] = [];
    const events = await eventually(
      async () => {
        last = await listAllEvents(gateway);
        const settled = last.filter((e) => e.status === "processed").length;
        if (settled >= DISTINCT || last.some((e) => e.status === "dead")) return last;
        // Paging through 1,000 events is itself load: poll about once a second.
        await new Promise((r) => setTimeout(r, 1000));
        return undefined;
      },
      DRAIN_TIMEOUT_MS,
      "1,000 processed events",
    ).catch((error: Error) => {
      const counts = countBy(last, (e) => e.status);
      throw new Error(`${error.message}; ${last.length} events recorded: ${JSON.stringify(counts)}`);
    });
    assert.deepEqual(
      countBy(events, (e) => e.status),
      { processed: DISTINCT },
    );
    assert.equal(events.length, DISTINCT);
    assert.deepEqual(new Set(events.map((e) => e.id)), new Set(expectedIds.values()));
    for (const status of ["retrying", "dead"]) {
      assert.deepEqual(await listAllEvents(gateway, { status }), [], `no ${status} event`);
    }
    const byType = new Map(deliveries.map((d) => [expectedIds.get(d.index), d.type]));
    for (const event of events) assert.equal(event.type, byType.get(event.id));
  });

  it("every approval decision has exactly one effect, done on its first attempt", { timeout: 120_000 }, async () => {
    assert.equal(expectedIds.size, DISTINCT, "the sending test ran");
    const approvals = [...new Map(deliveries.filter((d) => d.effect).map((d) => [d.index, d])).values()];
    assert.equal(approvals.length, NUVOUCH_APPROVED + NUVOUCH_DENIED);
    const problems: string[] = [];
    await mapLimit(approvals, 8, async (delivery) => {
      const id = expectedIds.get(delivery.index) as string;
      const event = await getEvent(gateway, id);
      const effect = delivery.effect as { externalRequestId: string; name: string };
      const expected = [
        { id: `approval:${effect.externalRequestId}:${effect.name}`, name: effect.name, status: "done", attempts: 1 },
      ];
      const actual = event?.effects.map(({ id, name, status, attempts }) => ({ id, name, status, attempts }));
      if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${id}: ${JSON.stringify(actual)}`);
    });
    assert.deepEqual(problems.slice(0, 5), [], `${problems.length} approval events with unexpected effects`);

    // A sample through the approval record as well (docs/contract.md §7).
    for (const delivery of approvals.slice(0, 10)) {
      const { externalRequestId, name } = delivery.effect as { externalRequestId: string; name: string };
      const { status, body } = await adminGet<{ status: string; effect: unknown }>(
        gateway,
        `/api/nuvouch/approvals/${encodeURIComponent(externalRequestId)}`,
      );
      assert.equal(status, 200);
      assert.equal(body.status, name === "approval-approved" ? "approved" : "denied");
      assert.deepEqual(body.effect, { status: "done", attempts: 1 });
    }
  });

  it("every Nuvei transaction ends approved whatever order its webhooks were processed in", async () => {
    const transactionIds = [...new Set(deliveries.flatMap((d) => (d.transactionId ? [d.transactionId] : [])))];
    assert.equal(transactionIds.length, NUVEI_TRANSACTIONS);
    const statuses = await mapLimit(transactionIds, 8, async (transactionId) => {
      const { body } = await adminGet<{ status?: string }>(gateway, `/api/nuvei/transactions/${transactionId}`);
      return body?.status;
    });
    assert.deepEqual(new Set(statuses), new Set(["approved"]));
  });
});

// Runs after the bulk checks above, which count every event in the store.
describe("identical deliveries racing each other", () => {
  it("twelve simultaneous copies of one approval make one event and one effect, run once", {
    timeout: 180_000,
  }, async () => {
    for (let round = 0; round < 3; round++) {
      const externalRequestId = `race_${round}_${Date.now().toString(36)}`;
      const body = JSON.stringify(buildPayload("nuvouch", "approval.approved", newStory({ externalRequestId })));
      const answers = await Promise.all(Array.from({ length: 12 }, () => sendSigned(gateway, "nuvouch", body)));
      assert.deepEqual(
        answers.filter((a) => a.status !== 202 && a.status !== 200),
        [],
      );
      const ids = new Set(answers.map((a) => a.body.id));
      assert.equal(ids.size, 1, "every copy names one event");
      const id = [...ids][0] as string;
      // Copies that passed the ingest fast path together reach the consumer together; a loser
      // waits out the winner's effect lease before its retry acks.
      const event = await processedEvent(gateway, id, 60_000);
      console.log(
        `race round ${round}: answers ${answers.filter((a) => a.status === 202).length}×202 ` +
          `${answers.filter((a) => a.status === 200).length}×200; event attempts ${event.attempts}`,
      );
      assert.deepEqual(
        event.effects.map(({ id, name, status, attempts }) => ({ id, name, status, attempts })),
        [
          {
            id: `approval:${externalRequestId}:approval-approved`,
            name: "approval-approved",
            status: "done",
            attempts: 1,
          },
        ],
      );
      assert.equal((await listAllEvents(gateway, { dedupeKey: JSON.parse(body).id })).length, 1);
    }
  });
});
