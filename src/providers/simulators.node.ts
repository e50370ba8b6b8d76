// Every provider as the tools see it, by name: one entry per provider of src/providers/registry.ts
// (test/provider-registry.test.ts checks the two agree, names, secrets and event types).
import { novaSimulator } from "./nova/simulator.node.ts";
import { nuveiSimulator } from "./nuvei/simulator.node.ts";
import { nuvouchSimulator } from "./nuvouch/simulator.node.ts";
import type { Simulator } from "./simulation.node.ts";

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
