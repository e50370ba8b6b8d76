// End to end against a real `wrangler dev`: signed deliveries in, state out through the
// operator API, with the real queue consumer in between.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload, type ProviderName } from "../src/providers/simulators.node.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { adminGet, getEvent, processedEvent, sendSigned } from "./support/operator.ts";

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

  const connection = newStory({});
  for (const [provider, build] of [
    ["nova", () => buildPayload("nova", "payment.succeeded", newStory({}))],
    ["nuvei", () => buildPayload("nuvei", "approved", newStory({}))],
    ["nuvouch", () => buildPayload("nuvouch", "connection.accepted", connection)],
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

  it("nuvouch: the connection callback above drove the pair's connection to accepted", async () => {
    const query = new URLSearchParams({ subjectId: connection.subject, contextKey: connection.contextKey });
    const { status, body } = await adminGet<{ status: string }>(gateway, `/api/nuvouch/connections?${query}`);
    assert.equal(status, 200);
    assert.equal(body.status, "accepted");
  });

  it("nuvouch: 12 pairs of callbacks with one id and opposite decisions, sent at once: one effect each, one conflict counted", async () => {
    const pairs = Array.from({ length: 12 }, () => {
      const story = newStory({});
      const approved = buildPayload("nuvouch", "approval.approved", story);
      const denied = { ...buildPayload("nuvouch", "approval.denied", story), id: approved.id };
      return [JSON.stringify(approved), JSON.stringify(denied)] as const;
    });
    const answers = await Promise.all(pairs.flat().map((body) => send("nuvouch", body)));
    for (const answer of answers) assert.ok(answer.status >= 200 && answer.status < 300, JSON.stringify(answer));
    for (let i = 0; i < pairs.length; i++) {
      const [first, second] = [answers[2 * i], answers[2 * i + 1]] as { body: { id: string } }[];
      const id = first?.body.id as string;
      assert.equal(second?.body.id, id);
      const event = await eventually(
        async () => {
          const detail = (await getEvent(gateway, id)) as
            | { status: string; conflicts: { count: number }; effects: { status: string }[] }
            | undefined;
          return detail?.status === "processed" && detail.conflicts.count === 1 ? detail : undefined;
        },
        30_000,
        `pair ${i} processed with its conflict counted`,
      );
      assert.equal(event.effects.length, 1, JSON.stringify(event.effects));
      assert.equal(event.effects[0]?.status, "done");
    }
  });

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
