// Adding a provider is one folder and one registry entry: test/fixtures/acme/ is a fourth provider
// with an HMAC scheme of its own, served here by adding it to a registry, and a delivery of it
// goes through ingest, the consumer and an effect handler like any other.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EffectRegistry } from "../src/effects/registry";
import { providers } from "../src/providers/registry";
import { newStory } from "../src/providers/simulation.node.ts";
import { createQueueHandler } from "../src/queue/consumer";
import { acme } from "./fixtures/acme";
import { acmeSimulator } from "./fixtures/acme/simulator.node.ts";
import { callGateway, NOW_MS, NOW_S, recordingEnv, webhookRequest } from "./support/gateway";
import { TEST_SECRETS } from "./support/secrets";

const ACME_SECRET = "acme_test_secret";
const withAcme = providers.with(acme);

function acmeDelivery(payload: object, secret = ACME_SECRET) {
  const body = JSON.stringify(payload);
  const headers = { "content-type": "application/json", ...acmeSimulator.sign(body, secret, NOW_S) };
  return webhookRequest("acme", body, headers);
}

async function api(path: string) {
  const response = await callGateway(
    new Request(`https://gateway.test/api${path}`, {
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
    }),
    { providers: withAcme },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a provider from one folder (test/fixtures/acme)", () => {
  it("is only served where it is registered, and only its own event names type-check", async () => {
    const testEnv = { ...env, ACME_WEBHOOK_SECRET: ACME_SECRET } as Env;
    const payload = acmeSimulator.build("order.paid", newStory({}));
    expect((await callGateway(acmeDelivery(payload), { env: testEnv })).status).toBe(404);
    // @ts-expect-error the built-in registry knows no acme events
    expect(() => new EffectRegistry().on("acme:order.paid", "x", () => {})).toThrow(/unknown event/);
    // @ts-expect-error a misspelt acme type
    expect(() => new EffectRegistry(withAcme).on("acme:order.payed", "y", () => {})).toThrow(/acme knows order\.paid/);
  });

  it("verifies, queues, records and runs an effect handler once; a retry is a duplicate, a forgery 401", async () => {
    const { env: testEnv, sent } = recordingEnv({ ACME_WEBHOOK_SECRET: ACME_SECRET } as Partial<Env>);
    const story = newStory({ merchantTransactionId: `order_${NOW_MS}` });
    const payload = acmeSimulator.build("order.paid", story);

    const accepted = await callGateway(acmeDelivery(payload), { env: testEnv, providers: withAcme });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    const retry = await callGateway(acmeDelivery(payload), { env: testEnv, providers: withAcme });
    expect(await retry.json()).toEqual({ status: "duplicate", id });
    const forged = await callGateway(acmeDelivery(payload, "not_the_secret"), { env: testEnv, providers: withAcme });
    expect(forged.status).toBe(401);
    expect(sent).toHaveLength(1);

    const paid: { orderId: string; effectId: string }[] = [];
    const registry = new EffectRegistry(withAcme).on("acme:order.paid", "fulfil-order", ({ payload, effectId }) => {
      paid.push({ orderId: payload.order.orderId, effectId });
    });
    const consumer = createQueueHandler({ registry, now: () => NOW_MS });
    for (const attempt of [1, 2]) {
      const batch = createMessageBatch("webhook-events", [
        { id: `acme-${attempt}`, timestamp: new Date(NOW_MS), attempts: attempt, body: sent[0] },
      ]);
      const ctx = createExecutionContext();
      await consumer(batch, testEnv, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`acme-${attempt}`]);
    }
    expect(paid).toEqual([{ orderId: story.merchantTransactionId, effectId: `${id}:fulfil-order` }]);

    const event = await api(`/events/${id}`);
    expect(event.body).toMatchObject({
      provider: "acme",
      type: "order.paid",
      status: "processed",
      effects: [{ name: "fulfil-order", status: "done", attempts: 1 }],
    });
    expect((await api("/events?provider=acme")).body.events).toEqual([expect.objectContaining({ id })]);
  });
});
