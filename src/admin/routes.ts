import { Hono } from "hono";
import { z } from "zod";
import { decodeCursor, encodeCursor, listEvents, toApiEvent } from "../events/query";
import { getEvent } from "../events/store";
import { jsonError } from "../http/errors";
import { enqueueEvent } from "../ingest/enqueue";
import { log } from "../log";
import { getTransaction } from "../providers/nuvei/store";
import { type NuvouchRouteOptions, nuvouchApi } from "../providers/nuvouch/routes";
import { providerNames } from "../providers/registry";
import { requireAdminToken } from "./auth";
import { statsApi } from "./stats";
import { zodValidate } from "./validate";

const ListQuery = z.object({
  provider: z.enum(providerNames as [string, ...string[]]).optional(),
  type: z.string().min(1).max(200).optional(),
  status: z.enum(["processed", "retrying", "dead"]).optional(),
  dedupeKey: z.string().min(1).max(256).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, "a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(200))
    .optional()
    .default(50),
  cursor: z.string().max(1024).optional(),
});

/** The operator API (docs/contract.md §7), mounted at `/api`; every route needs the bearer token. */
export function adminApi(options: NuvouchRouteOptions) {
  const api = new Hono<{ Bindings: Env }>();
  api.use("*", requireAdminToken);
  api.route("/stats", statsApi());

  api.get("/events", zodValidate("query", ListQuery), async (c) => {
    const query = c.req.valid("query");
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (after === null) return jsonError(c, 400, "invalid_query", "cursor is not one this API issued");
    const { rows, more } = await listEvents(c.env.DB, { ...query, after });
    const last = rows[rows.length - 1];
    return c.json({ events: rows.map(toApiEvent), nextCursor: more && last ? encodeCursor(last) : null });
  });

  api.get("/events/:id", async (c) => {
    const row = await getEvent(c.env.DB, c.req.param("id"));
    if (!row) return jsonError(c, 404, "event_not_found");
    const { results: effects } = await c.env.DB.prepare(
      "SELECT id, name, status, attempts, last_error AS lastError FROM effects WHERE event_id = ? ORDER BY id",
    )
      .bind(row.id)
      .all();
    // The payload is spliced in as stored, so numbers JSON.parse would round (Nuvei's
    // 64-bit transactionId) reach the operator unchanged.
    const head = JSON.stringify({ ...toApiEvent(row), updatedAt: row.updated_at, effects });
    return c.body(`${head.slice(0, -1)},"payload":${row.payload}}`, 200, { "content-type": "application/json" });
  });

  api.post("/events/:id/replay", async (c) => {
    const row = await getEvent(c.env.DB, c.req.param("id"));
    if (!row) return jsonError(c, 404, "event_not_found");
    try {
      await enqueueEvent(c.env, {
        v: 1,
        id: row.id,
        provider: row.provider,
        dedupeKey: row.dedupe_key,
        type: row.type,
        occurredAt: row.occurred_at,
        receivedAt: row.received_at,
        payload: row.payload,
        replay: true,
      });
    } catch (error) {
      log("error", "replay enqueue failed", { id: row.id, error: String(error) });
      return jsonError(c, 503, "enqueue_failed");
    }
    log("info", "replay queued", { id: row.id });
    return c.json({ status: "replay_queued", id: row.id }, 202);
  });

  api.get("/nuvei/transactions/:transactionId", async (c) => {
    const transaction = await getTransaction(c.env.DB, c.req.param("transactionId"));
    return transaction ? c.json(transaction) : jsonError(c, 404, "transaction_not_found");
  });

  api.route("/nuvouch", nuvouchApi(options));

  api.notFound((c) => jsonError(c, 404, "not_found"));
  return api;
}
