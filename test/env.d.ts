declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Base URL of the forwarding sink that test/support/global-setup.ts serves. */
    FORWARD_SINK_URL: string;
  }
}
