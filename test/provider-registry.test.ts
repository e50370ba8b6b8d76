// The tools' simulators (src/providers/*/simulator.node.ts) and the gateway's providers are one
// list: the same names, secrets and event types, and every delivery a simulator builds and signs
// is one its provider verifies and reads.
import { describe, expect, expectTypeOf, it } from "vitest";
import { sha256Hex } from "../src/crypto/hmac";
import { type ProviderName, providers } from "../src/providers/registry";
import { newStory } from "../src/providers/simulation.node.ts";
import { PROVIDER_NAMES, simulatorOf, type simulators } from "../src/providers/simulators.node.ts";
import { NOW_S } from "./support/gateway";

describe("providers and their simulators", () => {
  it("are the same providers", () => {
    expectTypeOf<keyof typeof simulators>().toEqualTypeOf<ProviderName>();
    expect(PROVIDER_NAMES).toEqual(providers.names);
  });

  for (const provider of providers.list) {
    const simulator = simulatorOf(provider.name);

    it(`${provider.name}: the same secret binding, and its events are exactly the known event types`, () => {
      expect(simulator.secretBinding).toBe(provider.secretBinding);
      expect(simulator.events.map((event) => simulator.eventType(event)).sort()).toEqual(
        Object.keys(provider.events).sort(),
      );
    });

    it(`${provider.name}: each event it builds and signs is verified and read as that type`, async () => {
      for (const event of simulator.events) {
        const text = JSON.stringify(simulator.build(event, newStory({})));
        const body = new TextEncoder().encode(text);
        const delivery = {
          headers: new Headers({ "content-type": "application/json", ...simulator.sign(body, "s3cret", NOW_S) }),
          body,
          bodySha256: () => sha256Hex(body),
        };
        expect(
          await provider.verify(delivery, { secrets: ["s3cret"], nowSeconds: NOW_S, toleranceSeconds: 300 }),
        ).toEqual({ ok: true });
        expect(
          await provider.verify(delivery, { secrets: ["other"], nowSeconds: NOW_S, toleranceSeconds: 300 }),
        ).toMatchObject({ ok: false, code: "signature_invalid" });
        const read = await provider.parse(text, delivery);
        expect(read).toMatchObject({ ok: true, value: { type: simulator.eventType(event) } });
      }
    });
  }
});
