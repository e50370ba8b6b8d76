// The worker `bench:cpu` runs in workerd: the target (the gateway, or the bare Hono worker) behind
// in-memory bindings that answer at once (./memory-bindings.ts). esbuild resolves `bench:target` to
// the target's entry module when it bundles this file, so both arms run under the same few lines.
import target from "bench:target";
import { memoryCache, memoryD1, memoryKv, memoryQueue, type RecordedEvents } from "./memory-bindings";

interface Target {
  fetch(request: Request, env: unknown, ctx: unknown): Response | Promise<Response>;
}

const recorded: RecordedEvents = new Map();
const kv = memoryKv();
const queue = memoryQueue(recorded);
const cache = memoryCache();

// `caches.default` (DEDUPE_MODE=edge) is the in-memory cache too: Miniflare's Cache simulator
// would run in this same workerd process and be counted as the worker's CPU.
Object.defineProperty(globalThis, "caches", {
  value: { default: cache, open: async () => cache },
  configurable: true,
});

// One env object for the life of the isolate, as workerd passes: the gateway caches its parsed
// config per env object.
let env: Record<string, unknown> | undefined;

export default {
  fetch(request: Request, bindings: Record<string, unknown>, ctx: unknown): Response | Promise<Response> {
    env ??= { ...bindings, DEDUPE_KV: kv, DB: memoryD1(recorded), EVENTS_QUEUE: queue };
    // Every measured request is a POST; a GET reads what the bindings saw, for the driver's checks.
    if (request.method === "GET" && request.url.endsWith("/__bench/stats")) {
      return Response.json({ kvKeys: kv.size(), queued: queue.sent(), queuedBytes: queue.bytes() });
    }
    return (target as Target).fetch(request, env, ctx);
  },
};
