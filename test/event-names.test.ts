// Handler names are checked twice: by the compiler (the `@ts-expect-error` lines below fail
// `npm run typecheck` the day a misspelt name compiles) and when the registry is built.
import { describe, expect, it } from "vitest";
import { EffectRegistry } from "../src/effects/registry";
import { consume, messageFor } from "./support/consumer";
import { novaEvent, nuvouchApprovalEvent } from "./support/payloads";

const noop = () => {};

describe("effect handler names", () => {
  it("a misspelt type, a wildcard inside a type or an unknown provider is refused when registering", () => {
    const registry = new EffectRegistry();
    // @ts-expect-error a misspelt Nova type
    expect(() => registry.on("nova:paymnet.succeded", "a", noop)).toThrow(/unknown event "nova:paymnet\.succeded"/);
    // @ts-expect-error only a whole provider or everything has a catch-all
    expect(() => registry.on("nova:payment.*", "b", noop)).toThrow(/nova knows payment\.succeeded/);
    // @ts-expect-error a misspelt Nuvei status
    expect(() => registry.on("nuvei:transaction.aproved", "c", noop)).toThrow(/use "nuvei:\*" or "\*"/);
    // @ts-expect-error no such provider
    expect(() => registry.on("acme:thing.happened", "d", noop)).toThrow(/providers: nova, nuvei, nuvouch/);
    // @ts-expect-error the provider prefix is part of the name
    expect(() => registry.on("payment.succeeded", "e", noop)).toThrow(/unknown event/);
    // Nothing refused was registered.
    expect(["a", "b", "c", "d", "e"].map((name) => registry.get(name))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("known types, provider catch-alls and the global one are accepted, with their payload types", () => {
    const registry = new EffectRegistry()
      .on("nuvouch:nuvouch.approval.approved", "approved", ({ payload }) => {
        const id: string = payload.data.externalRequestId;
        void id;
      })
      .on("nuvei:transaction.authorizedOnly", "authorized", ({ payload }) => {
        const status: string = payload.result.status;
        void status;
      })
      .on("nova:*", "every-nova", ({ payload }) => {
        const eventId: string = payload.eventId;
        void eventId;
      })
      .onAny("everything", noop);
    expect(["approved", "authorized", "every-nova", "everything"].map((name) => registry.get(name)?.event)).toEqual([
      "nuvouch:nuvouch.approval.approved",
      "nuvei:transaction.authorizedOnly",
      "nova:*",
      "*",
    ]);
  });

  it("an event reaches its type's handlers and the catch-alls; a type no list names, the catch-alls only", async () => {
    const ran: string[] = [];
    const record = (name: string) => () => {
      ran.push(name);
    };
    const registry = new EffectRegistry()
      .on("nova:payment.succeeded", "exact", record("exact"))
      .on("nova:*", "nova-any", record("nova-any"))
      .on("nuvouch:*", "nuvouch-any", record("nuvouch-any"))
      .onAny("any", record("any"));

    await consume([await messageFor("nova", novaEvent({ type: "payment.succeeded" }))], { registry });
    expect(ran.sort()).toEqual(["any", "exact", "nova-any"]);

    ran.length = 0;
    // Nova adds types without notice: one nobody listed is still dispatched to the catch-alls.
    await consume([await messageFor("nova", novaEvent({ type: "loyalty.points.awarded" }))], { registry });
    expect(ran.sort()).toEqual(["any", "nova-any"]);

    ran.length = 0;
    await consume([await messageFor("nuvouch", nuvouchApprovalEvent("nuvouch.approval.denied"))], { registry });
    expect(ran.sort()).toEqual(["any", "nuvouch-any"]);
  });
});
