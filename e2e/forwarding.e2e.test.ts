// Forwarding (docs/contract.md §6) end to end: the gateway under `wrangler dev` POSTs each processed
// event to a local sink, signed per Standard Webhooks with the event id as `webhook-id`,
// and a retry after a failed attempt carries the same id.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload, type ProviderName } from "../src/providers/simulators.node.ts";
import { type DevGateway, devSecrets, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { getEvent, processedEvent, sendSigned } from "./support/operator.ts";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** Answers 503 to the first delivery whose body contains this marker, 200 to everything else. */
const FLAKY_MARKER = "cus_forward_flaky_once";

const received: Received[] = [];
let sink: Server;
let sinkUrl: string;
let gateway: DevGateway;

before(async () => {
  let failedOnce = false;
  sink = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const fail = !failedOnce && body.includes(FLAKY_MARKER);
      if (fail) failedOnce = true;
      const answered = fail ? 503 : 200;
      received.push({ headers: request.headers, body, answered });
      response.writeHead(answered, { "content-type": "text/plain" }).end(fail ? "try again" : "ok");
    });
  });
  await new Promise<void>((listening) => sink.listen(0, "127.0.0.1", listening));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hooks`;
  gateway = await startDevGateway({ vars: { FORWARD_URL: sinkUrl } });
});

after(async () => {
  await gateway?.stop();
  await new Promise<void>((closed) => (sink ? sink.close(() => closed()) : closed()));
});

const signingSecret = () => devSecrets().FORWARD_SIGNING_SECRET as string;

function deliveriesFor(id: string): Received[] {
  return received.filter((r) => r.headers["webhook-id"] === id);
}

/** Verifies one received POST as a Standard Webhooks consumer would; returns the parsed body. */
function verified(delivery: Received): Record<string, unknown> {
  const headers = {
    "webhook-id": String(delivery.headers["webhook-id"]),
    "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
    "webhook-signature": String(delivery.headers["webhook-signature"]),
  };
  return new Webhook(signingSecret()).verify(delivery.body, headers) as Record<string, unknown>;
}

const settled = (id: string, timeoutMs?: number) => processedEvent(gateway, id, timeoutMs);

describe("forwarding to FORWARD_URL under wrangler dev", () => {
  for (const [provider, event] of [
    ["nova", "payment.succeeded"],
    ["nuvei", "approved"],
    ["nuvouch", "approval.approved"],
  ] as [ProviderName, string][]) {
    it(`${provider}: the processed event reaches the sink once, signed, with webhook-id = the event id`, async () => {
      const payload = buildPayload(provider, event, newStory({}));
      const answer = await sendSigned(gateway, provider, JSON.stringify(payload));
      assert.equal(answer.status, 202);
      const id = answer.body.id as string;

      const processedEvent = await settled(id);
      const [delivery, ...extra] = await eventually(
        async () => (deliveriesFor(id).length > 0 ? deliveriesFor(id) : undefined),
        10_000,
        `forward of ${id}`,
      );
      assert.equal(extra.length, 0, "forwarded once");
      assert.ok(delivery);
      assert.equal(delivery.headers["content-type"], "application/json");
      const body = verified(delivery);
      assert.equal(body.id, id);
      assert.equal(body.provider, provider);
      assert.equal(body.type, processedEvent.type);
      assert.equal(body.receivedAt, processedEvent.receivedAt);
      assert.equal(body.occurredAt, processedEvent.occurredAt);
      if (provider === "nuvei")
        assert.equal((body.data as { transactionId: string }).transactionId, payload.transactionId);
      else assert.deepEqual(body.data, payload.data);
      // A signature made with another secret does not verify: the check above is real.
      assert.throws(() =>
        new Webhook("whsec_bm90LXRoZS1mb3J3YXJkLXNlY3JldA==").verify(delivery.body, {
          "webhook-id": id,
          "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
          "webhook-signature": String(delivery.headers["webhook-signature"]),
        }),
      );
      assert.deepEqual(
        processedEvent.effects.map(({ name, status, attempts }) => ({ name, status, attempts })),
        [
          ...(provider === "nuvouch" ? [{ name: "approval-approved", status: "done", attempts: 1 }] : []),
          { name: "forward", status: "done", attempts: 1 },
        ].sort((a, b) => a.name.localeCompare(b.name)),
      );
    });
  }

  it("a duplicate delivery is not forwarded again", async () => {
    const body = JSON.stringify(buildPayload("nova", "payment.refunded", newStory({})));
    const first = await sendSigned(gateway, "nova", body);
    assert.equal(first.status, 202);
    const id = first.body.id as string;
    await settled(id);
    await eventually(async () => (deliveriesFor(id).length > 0 ? true : undefined), 10_000, `forward of ${id}`);
    const again = await sendSigned(gateway, "nova", body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { status: "duplicate", id });
    // Give a wrongly re-processed duplicate time to show up at the sink.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(deliveriesFor(id).length, 1);
  });

  it("a failed forward is retried with the same webhook-id until the sink takes it", { timeout: 120_000 }, async () => {
    const payload = buildPayload("nova", "payment.succeeded", newStory({ subject: FLAKY_MARKER }));
    const answer = await sendSigned(gateway, "nova", JSON.stringify(payload));
    assert.equal(answer.status, 202);
    const id = answer.body.id as string;

    // The first attempt is refused: the event waits as `retrying`, its forward effect failed.
    const retrying = await eventually(
      async () => {
        const event = await getEvent(gateway, id);
        // The next retry time is written just after the status: wait for both.
        const due = event?.effects.some((effect) => effect.name === "forward" && effect.nextRetryAt !== null);
        return event?.status === "retrying" && due ? event : undefined;
      },
      30_000,
      `event ${id} retrying`,
    );
    assert.match(String(retrying.lastError), /forward target answered 503/);
    const waiting = retrying.effects.find((effect) => effect.name === "forward");
    assert.equal(waiting?.history.length, 1);
    assert.equal(waiting?.history[0]?.outcome, "failed");
    assert.ok(Date.parse(String(waiting?.nextRetryAt)) > Date.parse(String(waiting?.history[0]?.at)), "a retry is due");

    // The queue's backoff (10 s for the first retry) brings it back.
    const processedEvent = await settled(id, 90_000);
    const deliveries = deliveriesFor(id);
    assert.deepEqual(
      deliveries.map((d) => d.answered),
      [503, 200],
    );
    for (const delivery of deliveries) assert.equal(verified(delivery).id, id);
    assert.deepEqual(
      processedEvent.effects.map(({ name, status, attempts }) => ({ name, status, attempts })),
      [{ name: "forward", status: "done", attempts: 2 }],
    );
    assert.equal(processedEvent.lastError, null);
    // Both attempts are kept (docs/contract.md §7): the refused one with what the sink answered, then the one it took.
    const [forward] = processedEvent.effects;
    assert.ok(forward);
    assert.deepEqual(
      forward.history.map(({ outcome, httpStatus, target }) => ({ outcome, httpStatus, target })),
      [
        { outcome: "failed", httpStatus: 503, target: sinkUrl },
        { outcome: "done", httpStatus: 200, target: sinkUrl },
      ],
    );
    const [failed, done] = forward.history;
    assert.match(String(failed?.error), /503/);
    assert.equal(failed?.responseBody, "try again");
    assert.ok(Date.parse(String(failed?.at)) < Date.parse(String(done?.at)), "oldest first");
    for (const attempt of forward.history) assert.ok(attempt.durationMs >= 0);
    assert.equal(forward.nextRetryAt, null, "nothing left to retry");
  });
});
