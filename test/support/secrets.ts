/** Test-only secrets, bound over wrangler.toml's vars by vitest.config.ts. */
export const TEST_SECRETS = {
  NOVA_WEBHOOK_SECRET: "test_nova_secret",
  NUVEI_WEBHOOK_SECRET: "test_nuvei_secret",
  NUVOUCH_CALLBACK_SECRET: "test_nuvouch_secret",
  NUVOUCH_INTEGRATOR_API_KEY: "itg_test_key",
  ADMIN_API_TOKEN: "test_admin_token",
  FORWARD_SIGNING_SECRET: "whsec_dGVzdF9mb3J3YXJkX3NpZ25pbmdfc2VjcmV0",
};
