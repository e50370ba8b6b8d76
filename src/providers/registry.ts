import { nova } from "./nova";
import { nuvei } from "./nuvei";
import { nuvouch } from "./nuvouch";
import type { Provider } from "./types";

/** Adding a provider: a folder beside these three and one line here. */
const providers: Record<string, Provider> = { nova, nuvei, nuvouch };

export function getProvider(name: string): Provider | undefined {
  // hasOwn: `/webhooks/constructor` must be a 404, not Object.prototype.constructor.
  return Object.hasOwn(providers, name) ? providers[name] : undefined;
}

export const providerNames = Object.keys(providers);
