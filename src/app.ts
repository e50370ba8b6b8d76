import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { adminApi } from "./admin/routes";
import { type Clock, systemClock } from "./clock";
import { dashboard } from "./dashboard";
import { isStorageUnavailable, jsonError } from "./http/errors";
import { ingestHandler } from "./ingest/route";
import { log } from "./log";
import type { RefusalAggregator } from "./monitor/rejections";
import { providers as builtinProviders, type ProviderRegistry } from "./providers/registry";
import type { ApiClientOptions } from "./providers/types";

export interface AppOptions {
  /** Milliseconds since the epoch; injected by tests that move the clock. */
  now?: Clock;
  /** The providers served; default the built-in ones (src/providers/registry.ts). */
  providers?: ProviderRegistry;
  /** Test seam for the backoff and time limits of the provider API clients the routes use. */
  apiClient?: ApiClientOptions;
  /** Where refused deliveries are counted; default the isolate's (src/monitor/rejections.ts). */
  refusals?: RefusalAggregator;
}

/** Operator answers hold event data: never cached by anything between, never sniffed as another type. */
const API_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

export function createApp(options: AppOptions = {}) {
  const now = options.now ?? systemClock;
  const providers = options.providers ?? builtinProviders;
  const app = new Hono<{ Bindings: Env }>();

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.all("/webhooks/:provider", ingestHandler({ now, providers, refusals: options.refusals }));
  app.use("/api/*", async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(API_HEADERS)) c.res.headers.set(name, value);
  });
  app.route("/api", adminApi({ now, providers, apiClient: options.apiClient }));
  app.route("/dashboard", dashboard({ providers }));

  app.notFound((c) => jsonError(c, "not_found"));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      // Responses built by our own middleware (bearer auth) already have the one error shape. hono's
      // own are text: the one it throws for us (a body that is not JSON) is answered in that shape.
      if (error.res) return error.res;
      if (error.status === 400) return jsonError(c, "invalid_json", error.message);
    }
    if (isStorageUnavailable(error)) {
      log("error", "storage unavailable", { path: c.req.path, error: String(error) });
      c.header("retry-after", "5");
      return jsonError(c, "storage_unavailable", "D1 did not answer; try again shortly");
    }
    log("error", "unhandled error", { path: c.req.path, error: String(error) });
    return jsonError(c, "internal_error");
  });
  return app;
}
