// `bench:cpu` bundles bench/lib/cpu-harness.ts with esbuild, which resolves this to the worker under
// test (the gateway's src/index.ts or the bare Hono worker).
declare module "bench:target" {
  const worker: unknown;
  export default worker;
}
