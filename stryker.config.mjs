// Mutation testing of the security core: every small change to these files that no test notices
// is a test the suite is missing. `npm run test:mutation` runs the whole core; CI runs the
// verifiers and the ingest route (`npm run test:mutation:ci`) against the same thresholds.
//
// Mutants are switched inside workerd: the Vitest runner drives the existing vitest.config.ts
// (the Workers Vitest integration) as it is.

/** The core, as the mutation-testing issue defines it. */
export const CORE = [
  "src/crypto/**/*.ts",
  "src/providers/nova/index.ts",
  "src/providers/nuvei/signature.ts",
  "src/providers/nuvei/state.ts",
  "src/providers/nuvouch/index.ts",
  "src/providers/nuvouch/state.ts",
  "src/providers/precedence.ts",
  "src/ingest/**/*.ts",
  "src/queue/process-event.ts",
  "src/effects/ledger.ts",
  "src/effects/runner.ts",
  "src/admin/auth.ts",
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner", "./test/mutation/ignore-log-calls.mjs"],
  // The only exclusion: mutants inside log(…) / warnOnce(…) calls, which change a log line and nothing
  // a provider, an operator or the API can see. Every other mutant counts.
  ignorers: ["log-calls"],
  vitest: { configFile: "vitest.config.ts", related: false },
  // TypeScript 7 ships no JavaScript compiler API, so Stryker's tsconfig preprocessor cannot read
  // one: point it at a file that does not exist, and it leaves the sources as they are.
  tsconfigFile: "stryker.tsconfig.does-not-exist.json",
  coverageAnalysis: "perTest",
  mutate: CORE,
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "test-output/mutation/index.html" },
  jsonReporter: { fileName: "test-output/mutation/mutation.json" },
  thresholds: { high: 95, low: 90, break: 90 },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
