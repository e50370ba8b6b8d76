import { type Failure, fail, ok, type Result } from "../result";
import type { EventStatus } from "../statuses";
import type { EventRow } from "./store";

export interface EventFilters {
  provider?: string;
  type?: string;
  status?: EventStatus;
  dedupeKey?: string;
  limit: number;
  after?: { receivedAt: string; id: string };
}

export type EventSummary = Omit<EventRow, "payload" | "updated_at">;

/** Newest first, keyset-paginated on (received_at, id): stable under concurrent inserts. */
export async function listEvents(
  db: D1Database,
  filters: EventFilters,
): Promise<{ rows: EventSummary[]; more: boolean }> {
  const { results } = await db
    .prepare(
      `SELECT id, provider, dedupe_key, type, status, attempts, last_error, received_at, occurred_at
       FROM events
       WHERE (?1 IS NULL OR provider = ?1) AND (?2 IS NULL OR type = ?2)
         AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR dedupe_key = ?4)
         AND (?5 IS NULL OR (received_at, id) < (?5, ?6))
       ORDER BY received_at DESC, id DESC
       LIMIT ?7`,
    )
    .bind(
      filters.provider ?? null,
      filters.type ?? null,
      filters.status ?? null,
      filters.dedupeKey ?? null,
      filters.after?.receivedAt ?? null,
      filters.after?.id ?? null,
      filters.limit + 1,
    )
    .all<EventSummary>();
  return { rows: results.slice(0, filters.limit), more: results.length > filters.limit };
}

export function toApiEvent(row: EventSummary) {
  return {
    id: row.id,
    provider: row.provider,
    type: row.type,
    dedupeKey: row.dedupe_key,
    status: row.status,
    receivedAt: row.received_at,
    occurredAt: row.occurred_at,
    attempts: row.attempts,
    lastError: row.last_error,
  };
}

/** Opaque to clients; base64url of the last row's sort key. */
export function encodeCursor(row: EventSummary): string {
  return btoa(JSON.stringify([row.received_at, row.id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeCursor(cursor: string): Result<{ receivedAt: string; id: string }, Failure<"invalid_query">> {
  try {
    const json = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const value: unknown = JSON.parse(json);
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === "string")) {
      return ok({ receivedAt: value[0] as string, id: value[1] as string });
    }
  } catch {
    // fall through: any undecodable cursor is a client error
  }
  return fail("invalid_query", "cursor is not one this API issued");
}

/** What a bulk replay picks: events in one status, optionally of one provider and time range. */
export interface ReplaySelection {
  status: string;
  provider?: string;
  /** Inclusive lower and exclusive upper bound on `received_at`, as toISOString() text. */
  since?: string;
  until?: string;
  limit: number;
}

/**
 * What a replay reads of a row: a quarantined event is re-read from its exact bytes, any other
 * from its stored payload, so each row loads one of the two, never both. `bytes` is their size.
 */
const REPLAY_RAW_BODY = "CASE WHEN status = 'quarantined' THEN raw_body END";
const REPLAY_PAYLOAD = "CASE WHEN status = 'quarantined' THEN NULL ELSE payload END";
const REPLAY_BYTES = `coalesce(length(CAST(${REPLAY_RAW_BODY} AS BLOB)), 0) + coalesce(length(CAST(${REPLAY_PAYLOAD} AS BLOB)), 0)`;

/**
 * The ids of the events a bulk replay picks, oldest first, and the bytes `eventsInStatus` will
 * load for each: a quarantined body that is not JSON has no payload, only its raw bytes.
 * Quarantined events come least recently re-read first (a re-read that keeps one quarantined
 * moves its `updated_at`), so the same still-invalid ones are not picked by every replay.
 */
export async function replayCandidates(
  db: D1Database,
  selection: ReplaySelection,
): Promise<{ id: string; bytes: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT id, ${REPLAY_BYTES} AS bytes
       FROM events
       WHERE status = ?1 AND (?2 IS NULL OR provider = ?2)
         AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4)
       ORDER BY CASE WHEN status = 'quarantined' THEN updated_at END, received_at, id
       LIMIT ?5`,
    )
    .bind(
      selection.status,
      selection.provider ?? null,
      selection.since ?? null,
      selection.until ?? null,
      selection.limit,
    )
    .all<{ id: string; bytes: number }>();
  return results;
}

/**
 * The rows of the given events that are still in `status` (one may have been replayed since it
 * was picked), with what a replay reads: `raw_body` only for a quarantined event, `payload`
 * (then null) for any other. The ids travel as one JSON parameter: D1 binds at most 100.
 */
export async function eventsInStatus(db: D1Database, ids: readonly string[], status: string): Promise<EventRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, provider, dedupe_key, type, ${REPLAY_PAYLOAD} AS payload, status, attempts, last_error,
              received_at, occurred_at, updated_at, body_sha256, conflict_count, last_conflict_sha256,
              last_conflict_at, ${REPLAY_RAW_BODY} AS raw_body, content_type
       FROM events WHERE id IN (SELECT value FROM json_each(?1)) AND status = ?2
       ORDER BY received_at, id`,
    )
    .bind(JSON.stringify(ids), status)
    .all<EventRow>();
  return results;
}
