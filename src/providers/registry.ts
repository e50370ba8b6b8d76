import { nova } from "./nova";
import { nuvei } from "./nuvei";
import { nuvouch } from "./nuvouch";
import type { Provider } from "./types";

/**
 * The providers a gateway serves, by name. The type keeps each provider's name and event types,
 * so effect handler names and payloads are checked against them (src/effects/registry.ts).
 */
export class ProviderRegistry<P extends Provider = Provider> {
  private readonly byName: ReadonlyMap<string, P>;

  constructor(readonly list: readonly P[]) {
    const byName = new Map<string, P>();
    for (const provider of list) {
      if (byName.has(provider.name)) throw new Error(`provider registered twice: ${provider.name}`);
      byName.set(provider.name, provider);
    }
    this.byName = byName;
  }

  /** A Map, not an object: `/webhooks/constructor` must be a 404, not Object.prototype.constructor. */
  get(name: string): P | undefined {
    return this.byName.get(name);
  }

  get names(): P["name"][] {
    return this.list.map((provider) => provider.name);
  }

  /** This registry and one more provider: how a test serves a provider of its own. */
  with<Q extends Provider>(provider: Q): ProviderRegistry<P | Q> {
    return new ProviderRegistry<P | Q>([...this.list, provider]);
  }
}

/** Adding a provider: a folder beside these three and one entry here (README, "Adding a provider"). */
export const providers = new ProviderRegistry([nova, nuvei, nuvouch]);

export type BuiltinProvider = (typeof providers.list)[number];
export type ProviderName = BuiltinProvider["name"];

// Each provider's secret must be a binding the Worker declares (.dev.vars.example, whence `wrangler
// types` makes Env): a provider whose secret was never configured fails to compile here.
type Undeclared = Exclude<BuiltinProvider["secretBinding"], keyof Env>;
const everySecretDeclared: [Undeclared] extends [never] ? true : Undeclared = true;
void everySecretDeclared;
