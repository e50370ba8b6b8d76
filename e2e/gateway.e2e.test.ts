// End to end against a real `wrangler dev`: signed deliveries in, state out through the
// operator API, with the real queue consumer in between.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildPayload, newStory, type ProviderName } from "../scripts/simulator/payloads.ts";
import { type DevGateway, startDevGateway } from "./support/dev-gateway.ts";
import { processedEvent, sendSigned } from "./support/operator.ts";

let gateway: DevGateway;
before(async () => {
  // The opt-in edge dedupe (Cache API + D1 read); every other e2e file runs the default, kv.
  gateway = await startDevGateway({ vars: { DEDUPE_MODE: "edge" } });
});
after(async () => {
  await gateway?.stop();
});

const send = (provider: ProviderName, body: string, secret?: string) =>
  sendSigned(gateway, provider, body, "application/json", secret);

describe("the gateway under wrangler dev, DEDUPE_MODE=edge", () => {
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
      assert.deepEqual(forged, { status: 401, body: { error: { code: "signature_invalid" } } });

      const accepted = await send(provider, body);
      assert.equal(accepted.status, 202);
      const { id, status } = accepted.body as { id: string; status: string };
      assert.equal(status, "accepted");

      assert.deepEqual(await send(provider, body), { status: 200, body: { status: "duplicate", id } });
      assert.equal((await processedEvent(gateway, id)).status, "processed");
    });
  }

  it("edge mode writes no dedupe key to KV", () => {
    // Runs after the deliveries above; the local KV store is the gateway's own (--persist-to).
    const listed = spawnSync(
      resolve(import.meta.dirname, "../node_modules/.bin/wrangler"),
      ["kv", "key", "list", "--binding", "DEDUPE_KV", "--local", "--persist-to", gateway.persistDir],
      {
        cwd: resolve(import.meta.dirname, ".."),
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      },
    );
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
  });
});
