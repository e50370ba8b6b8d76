import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { adminApi } from "./admin/routes";
import { dashboard } from "./dashboard";
import { errorBody } from "./http/errors";
import { type Clock, ingestHandler } from "./ingest/route";
import { log } from "./log";
import type { RefusalAggregator } from "./monitor/rejections";
import type { NuvouchRouteOptions } from "./providers/nuvouch/routes";

export interface AppOptions {
  /** Milliseconds since the epoch; injected by tests that move the clock. */
  now?: Clock;
  /** Test seam for the Nuvouch API client's backoff (see providers/nuvouch/routes.ts). */
  nuvouchClient?: NuvouchRouteOptions["client"];
  /** Where refused deliveries are counted; default the isolate's (src/monitor/rejections.ts). */
  refusals?: RefusalAggregator;
}

export function createApp(options: AppOptions = {}) {
  const now = options.now ?? Date.now;
  const app = new Hono<{ Bindings: Env }>();

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.all("/webhooks/:provider", ingestHandler(now, options.refusals));
  app.route("/api", adminApi({ now, client: options.nuvouchClient }));
  app.route("/dashboard", dashboard());

  app.notFound((c) => c.json(errorBody("not_found"), 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      // Middleware that built its own answer (bearer auth) keeps it; a bare one (hono's
      // "Malformed JSON in request body") is given the one error shape.
      if (error.res) return error.getResponse();
      return c.json(errorBody(error.status === 400 ? "invalid_request" : "http_error", error.message), error.status);
    }
    log("error", "unhandled error", { path: c.req.path, error: String(error) });
    return c.json(errorBody("internal_error"), 500);
  });
  return app;
}
