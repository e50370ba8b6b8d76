// What .ci/run mutates on every change: the verifiers and the ingest route, the code that decides
// what is accepted. The whole core (stryker.config.mjs, `npm run test:mutation`) takes over an hour
// on two cores; this subset a few minutes. Its break threshold is the target the issue set: a score
// under it fails CI, so a test that stops guarding a decision is seen.
import base from "./stryker.config.mjs";

export default {
  ...base,
  mutate: [
    "src/crypto/**/*.ts",
    "src/providers/nuvei/signature.ts",
    "src/ingest/route.ts",
    "src/ingest/refusals.ts",
    "src/admin/auth.ts",
  ],
  reporters: ["clear-text", "progress-append-only", "json"],
  jsonReporter: { fileName: "test-output/mutation/ci.json" },
  thresholds: { high: 100, low: 95, break: 95 },
};
