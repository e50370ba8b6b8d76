import { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "../clock";
import { effectUnderKey } from "../effects/ledger";
import { decodeCursor, encodeCursor, listEvents, toApiEvent } from "../events/query";
import { type EventRow, getEvent } from "../events/store";
import { jsonError } from "../http/errors";
import { pageLimit, zodValidate } from "../http/validate";
import { log } from "../log";
import type { ProviderRegistry } from "../providers/registry";
import type { ApiClientOptions } from "../providers/types";
import { EVENT_STATUSES } from "../statuses";
import { actorOf, audit } from "./audit";
import { requireAdminToken } from "./auth";
import { effectDetails } from "./effect-detail";
import { operationsApi } from "./operations";
import { blobBytes, type ReplayResult, replayEvents } from "./replay";
import { statsApi } from "./stats";

const listQuery = (providerNames: readonly string[]) =>
  z.object({
    provider: z.enum(providerNames as [string, ...string[]]).optional(),
    type: z.string().min(1).max(200).optional(),
    status: z.enum(EVENT_STATUSES).optional(),
    dedupeKey: z.string().min(1).max(256).optional(),
    limit: pageLimit(),
    cursor: z.string().max(1024).optional(),
  });

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A quarantined delivery's exact bytes: as text when they are UTF-8, else base64. */
function rawBodyOf(row: EventRow) {
  const bytes = blobBytes(row.raw_body);
  let text: string;
  let encoding: "utf-8" | "base64" = "utf-8";
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    encoding = "base64";
    text = btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
  }
  return { encoding, contentType: row.content_type, text };
}

/** The operator API (docs/contract.md §7), mounted at `/api`; every route needs the bearer token. */
export function adminApi(options: { now: Clock; providers: ProviderRegistry; apiClient?: ApiClientOptions }) {
  const api = new Hono<{ Bindings: Env }>();
  api.use("*", requireAdminToken(options.now));
  api.route("/stats", statsApi(options));
  api.route("/", operationsApi(options));

  api.get("/events", zodValidate("query", listQuery(options.providers.names)), async (c) => {
    const query = c.req.valid("query");
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (cursor && !cursor.ok) return jsonError(c, cursor.code, cursor.message);
    const after = cursor?.value;
    const { rows, more } = await listEvents(c.env.DB, { ...query, after });
    const last = rows[rows.length - 1];
    return c.json({ events: rows.map(toApiEvent), nextCursor: more && last ? encodeCursor(last) : null });
  });

  api.get("/events/:id", async (c) => {
    const row = await getEvent(c.env.DB, c.req.param("id"));
    if (!row) return jsonError(c, "event_not_found");
    const effects = await effectDetails(c.env.DB, row.id);
    // The payload is spliced in as stored, so numbers JSON.parse would round (Nuvei's
    // 64-bit transactionId) reach the operator unchanged.
    const head = JSON.stringify({
      ...toApiEvent(row),
      updatedAt: row.updated_at,
      conflicts: {
        count: row.conflict_count,
        lastBodySha256: row.last_conflict_sha256,
        lastAt: row.last_conflict_at,
      },
      ...(row.status === "quarantined" ? { rawBody: rawBodyOf(row) } : {}),
      effects,
    });
    return c.body(`${head.slice(0, -1)},"payload":${row.payload}}`, 200, { "content-type": "application/json" });
  });

  api.post("/events/:id/replay", async (c) => {
    const row = await getEvent(c.env.DB, c.req.param("id"));
    if (!row) return jsonError(c, "event_not_found");
    let result: ReplayResult;
    try {
      result = await replayEvents(c.env, options.providers, [row], options.now());
    } catch (error) {
      log("error", "replay enqueue failed", { id: row.id, error: String(error) });
      return jsonError(c, "enqueue_failed");
    }
    await audit(
      c.env.DB,
      { action: "replay", target: row.id, count: result.replayed, actor: actorOf(c.req.raw.headers) },
      options.now(),
    );
    const [invalid] = result.invalid;
    // A quarantined delivery the code deployed now still cannot read: re-read, its reasons updated,
    // and kept; nothing is queued.
    if (invalid) return c.json({ status: "quarantined", id: row.id, reason: invalid.reason }, 202);
    log("info", "replay queued", { id: row.id });
    return c.json({ status: "replay_queued", id: row.id }, 202);
  });

  for (const provider of options.providers.list) {
    const routes = provider.routes?.({ now: options.now, apiClient: options.apiClient, effectUnderKey });
    if (routes) api.route(`/${provider.name}`, routes);
  }

  api.notFound((c) => jsonError(c, "not_found"));
  return api;
}
