// End to end against a real `wrangler dev`: signed deliveries in, state out through the
// operator API, with the real queue consumer in between.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildPayload, newStory } from "../scripts/simulator/payloads.ts";
import { SECRET_BINDINGS, signatureHeaders } from "../scripts/simulator/sign.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";

let gateway: DevGateway;
before(async () => {
  gateway = await startDevGateway();
});
after(async () => {
  await gateway?.stop();
});

const admin = () => ({ authorization: `Bearer ${gateway.secrets.ADMIN_API_TOKEN}` });

async function send(provider: "nova" | "nuvei" | "nuvouch", body: string, secret?: string) {
  const bytes = new TextEncoder().encode(body);
  const signingSecret = secret ?? (gateway.secrets[SECRET_BINDINGS[provider]] as string);
  const headers = {
    "content-type": "application/json",
    ...signatureHeaders(provider, bytes, signingSecret, Math.floor(Date.now() / 1000)),
  };
  return fetch(`${gateway.url}/webhooks/${provider}`, { method: "POST", body, headers });
}

async function eventStatus(id: string) {
  const response = await fetch(`${gateway.url}/api/events/${id}`, { headers: admin() });
  return response.ok ? ((await response.json()) as { status: string }).status : undefined;
}

describe("the gateway under wrangler dev", () => {
  it("answers /healthz", async () => {
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
  });

  for (const [provider, build] of [
    ["nova", () => buildPayload("nova", "payment.succeeded", newStory({}))],
    ["nuvei", () => buildPayload("nuvei", "approved", newStory({}))],
    ["nuvouch", () => buildPayload("nuvouch", "nuvouch.connection.accepted", newStory({}))],
  ] as const) {
    it(`${provider}: accepts a signed delivery, rejects a wrongly signed one, processes it through the queue`, async () => {
      const body = JSON.stringify(build());
      const forged = await send(provider, body, "not-the-secret");
      assert.equal(forged.status, 401);
      assert.deepEqual(await forged.json(), { error: { code: "signature_invalid" } });

      const accepted = await send(provider, body);
      assert.equal(accepted.status, 202);
      const { id, status } = (await accepted.json()) as { id: string; status: string };
      assert.equal(status, "accepted");

      const duplicate = await send(provider, body);
      assert.equal(duplicate.status, 200);
      assert.deepEqual(await duplicate.json(), { status: "duplicate", id });

      assert.equal(await eventually(() => eventStatus(id), 30_000, `event ${id} processed`), "processed");
    });
  }
});
