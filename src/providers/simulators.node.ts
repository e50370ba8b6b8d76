// Every provider as the tools see it, by name: one entry per provider of src/providers/registry.ts
// (test/provider-registry.test.ts checks the two agree, names, secrets and event types).
import { novaSimulator } from "./nova/simulator.node.ts";
import { nuveiSimulator } from "./nuvei/simulator.node.ts";
import { nuvouchSimulator } from "./nuvouch/simulator.node.ts";
import type { Json, Simulator, Sources, StoryFields } from "./simulation.node.ts";

export const simulators = {
  nova: novaSimulator,
  nuvei: nuveiSimulator,
  nuvouch: nuvouchSimulator,
} as const satisfies Record<string, Simulator>;

export type ProviderName = keyof typeof simulators;

export const PROVIDER_NAMES = Object.keys(simulators) as ProviderName[];

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(simulators, name);
}

/** The simulator of `provider`, widened to the shape every simulator shares. */
export function simulatorOf(provider: ProviderName): Simulator<ProviderName> {
  return simulators[provider];
}

/** One delivery's payload of `provider`'s `event` (canonical: see its simulator's `resolve`). */
export function buildPayload(
  provider: ProviderName,
  event: string,
  story: StoryFields,
  options?: { eventId?: string; sources?: Sources },
): Json {
  return simulatorOf(provider).build(event, story, options);
}

/** The headers `provider` signs `body` with, at `t` (unix seconds). */
export function signatureHeaders(
  provider: ProviderName,
  body: string | Uint8Array,
  secret: string,
  t: number,
): Record<string, string> {
  return simulatorOf(provider).sign(body, secret, t);
}
