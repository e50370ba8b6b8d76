import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildDashboard } from "./scripts/build-dashboard.ts";
import { TEST_SECRETS } from "./test/support/secrets";

export default defineConfig(async () => {
  // The Worker imports the bundled dashboard client as text (wrangler.toml `[[rules]]`); the
  // pool does not run wrangler's `[build]` step, so bundle it here.
  await buildDashboard();
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          compatibilityFlags: ["nodejs_compat"],
          // Ingest sends to a real local queue that nothing consumes, so tests drive the
          // consumer themselves and never race a background one.
          queueProducers: { EVENTS_QUEUE: { queueName: "webhook-events-unconsumed" } },
          // Real Secrets Store bindings (Miniflare's), which test/secrets.test.ts and
          // test/secret-rotation.test.ts put in place of the Worker-secret strings to read each
          // secret from the store instead.
          secretsStoreSecrets: {
            STORE_SECRET_A: { store_id: "test-store", secret_name: "secret_a" },
            STORE_SECRET_B: { store_id: "test-store", secret_name: "secret_b" },
            STORE_SECRET_C: { store_id: "test-store", secret_name: "secret_c" },
            STORE_SECRET_D: { store_id: "test-store", secret_name: "secret_d" },
          },
          bindings: {
            TEST_MIGRATIONS: migrations,
            FORWARD_SINK_URL: inject("forwardSinkUrl"),
            NUVOUCH_API_BASE_URL: inject("fakeNuvouchUrl"),
            ...TEST_SECRETS,
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      silent: "passed-only" as const,
      setupFiles: ["./test/support/apply-migrations.ts"],
      globalSetup: ["./test/support/global-setup.ts"],
    },
  };
});
