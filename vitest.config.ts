import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets: the workerd test runner binds these over wrangler.toml's vars.
export const TEST_SECRETS = {
  NOVA_WEBHOOK_SECRET: "test_nova_secret",
  NUVEI_WEBHOOK_SECRET: "test_nuvei_secret",
  NUVOUCH_CALLBACK_SECRET: "test_nuvouch_secret",
  NUVOUCH_INTEGRATOR_API_KEY: "itg_test_key",
  ADMIN_API_TOKEN: "test_admin_token",
  FORWARD_SIGNING_SECRET: "whsec_dGVzdF9mb3J3YXJkX3NpZ25pbmdfc2VjcmV0",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          compatibilityFlags: ["nodejs_compat"],
          bindings: { TEST_MIGRATIONS: migrations, ...TEST_SECRETS },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      silent: "passed-only" as const,
      setupFiles: ["./test/support/apply-migrations.ts"],
    },
  };
});
