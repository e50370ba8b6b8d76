// Refused deliveries against a real `wrangler dev`: a burst of forged and stale deliveries is
// counted per provider and code, and shows up in GET /api/rejections within the flush interval.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newStory } from "../src/providers/simulation.node.ts";
import { buildPayload, type ProviderName, signatureHeaders, simulators } from "../src/providers/simulators.node.ts";
import { type DevGateway, eventually, startDevGateway } from "./support/dev-gateway.ts";
import { type ApiRejection, adminGet, mapLimit } from "./support/operator.ts";

let gateway: DevGateway;
before(async () => {
  gateway = await startDevGateway();
});
after(async () => {
  await gateway?.stop();
});

async function post(path: string, body: Uint8Array, headers: Record<string, string>, method = "POST") {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    ...(method === "POST" ? { body } : {}),
    headers: { "content-type": "application/json", ...headers },
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("refused deliveries under wrangler dev", () => {
  it("a burst of forged and stale deliveries is counted per provider and code, with reasons, within the flush interval", async () => {
    const providers: ProviderName[] = ["nova", "nuvei", "nuvouch"];
    const sample: Record<ProviderName, string> = {
      nova: "payment.succeeded",
      nuvei: "approved",
      nuvouch: "nuvouch.connection.accepted",
    };
    const body = (provider: ProviderName) =>
      new TextEncoder().encode(JSON.stringify(buildPayload(provider, sample[provider], newStory({}))));
    const now = () => Math.floor(Date.now() / 1000);

    const sends: (() => Promise<number>)[] = [];
    for (const provider of providers) {
      for (let i = 0; i < 40; i++) {
        const bytes = body(provider);
        sends.push(() =>
          post(`/webhooks/${provider}`, bytes, signatureHeaders(provider, bytes, "forged-secret", now())),
        );
      }
    }
    for (let i = 0; i < 25; i++) {
      const bytes = body("nova");
      const secret = gateway.secrets[simulators.nova.secretBinding] as string;
      sends.push(() => post("/webhooks/nova", bytes, signatureHeaders("nova", bytes, secret, now() - 412)));
    }
    for (let i = 0; i < 5; i++) sends.push(() => post(`/webhooks/novva`, body("nova"), {}));
    for (let i = 0; i < 3; i++) sends.push(() => post("/webhooks/nuvei", body("nuvei"), {}, "GET"));
    const statuses = await mapLimit(sends, 8, (send) => send());
    const byStatus = new Map<number, number>();
    for (const status of statuses) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byStatus), { 401: 145, 404: 5, 405: 3 });

    const expected = [
      ["nova", "signature_invalid", 401, 40],
      ["nuvei", "signature_invalid", 401, 40],
      ["nuvouch", "signature_invalid", 401, 40],
      ["nova", "timestamp_out_of_tolerance", 401, 25],
      ["unknown", "unknown_provider", 404, 5],
      ["nuvei", "method_not_allowed", 405, 3],
    ].sort();
    // Poll, within the contract's 30 s lag, until every refusal has been flushed.
    const rejections = await eventually(
      async () => {
        const { status, body: answer } = await adminGet<{ rejections: ApiRejection[] }>(
          gateway,
          "/api/rejections?window=15m",
        );
        assert.equal(status, 200);
        const seen = answer.rejections.map((r) => [r.provider, r.code, r.status, r.count]).sort();
        return JSON.stringify(seen) === JSON.stringify(expected) ? answer.rejections : undefined;
      },
      30_000,
      "all 153 refusals in GET /api/rejections",
    );
    const reason = (provider: string, code: string) =>
      rejections.find((r) => r.provider === provider && r.code === code)?.lastReason;
    assert.equal(reason("nuvei", "signature_invalid"), "no signature matches");
    assert.match(reason("nova", "timestamp_out_of_tolerance") ?? "", /^timestamp 41[2-4] s old$/);
    assert.equal(reason("unknown", "unknown_provider"), 'no provider "novva"');
    assert.equal(reason("nuvei", "method_not_allowed"), "method GET");

    // Summary lines replace the per-request lines of refused deliveries.
    const logs = gateway.logs();
    assert.match(logs, /"message":"deliveries refused"/);
    assert.doesNotMatch(logs, /"outcome":"rejected"/);
  });
});
