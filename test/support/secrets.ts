import { type BuiltinProvider, providers } from "../../src/providers/registry";

/** A provider's test secret, made from its binding's name: a new provider needs no line here. */
export function providerTestSecret(binding: string): string {
  return `test_${binding.toLowerCase()}`;
}

const providerSecrets = Object.fromEntries(
  providers.list.map((provider) => [provider.secretBinding, providerTestSecret(provider.secretBinding)]),
) as Record<BuiltinProvider["secretBinding"], string>;

/** Test-only secrets, bound over wrangler.toml's vars by vitest.config.ts: every provider's, then the gateway's own. */
export const TEST_SECRETS = {
  ...providerSecrets,
  NUVOUCH_INTEGRATOR_API_KEY: "itg_test_key",
  ADMIN_API_TOKEN: "test_admin_token",
  FORWARD_SIGNING_SECRET: "whsec_dGVzdF9mb3J3YXJkX3NpZ25pbmdfc2VjcmV0",
};
