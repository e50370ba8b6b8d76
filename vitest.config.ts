import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            NOVA_WEBHOOK_SECRET: "test_nova_secret",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
    },
  };
});
