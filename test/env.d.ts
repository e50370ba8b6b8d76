declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Base URL of the forwarding sink that test/support/global-setup.ts serves. */
    FORWARD_SINK_URL: string;
    /** Secrets Store bindings for test/secrets.test.ts and test/secret-rotation.test.ts (vitest.config.ts). */
    STORE_SECRET_A: SecretsStoreSecret;
    STORE_SECRET_B: SecretsStoreSecret;
    STORE_SECRET_C: SecretsStoreSecret;
    STORE_SECRET_D: SecretsStoreSecret;
  }
}
