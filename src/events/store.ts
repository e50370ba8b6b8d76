import type { EventMessage } from "../queue/message";

export type EventStatus = "processed" | "retrying" | "dead";

export interface EventRow {
  id: string;
  provider: string;
  dedupe_key: string;
  type: string;
  payload: string;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  received_at: string;
  occurred_at: string | null;
  updated_at: string;
}

export function findEventStatus(db: Pick<D1Database, "prepare">, id: string): Promise<EventStatus | null> {
  return db.prepare("SELECT status FROM events WHERE id = ?").bind(id).first<EventStatus>("status");
}

/**
 * Records the event (or counts another attempt at it). Its status is decided in the same
 * statement: `processed` unless an effect of this event is still owed. Placed after the
 * effect inserts in the batch, so it sees them.
 */
export function recordEvent(db: D1Database, message: EventMessage, payload: string, now: string): D1PreparedStatement {
  return bindMessage(
    db.prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                           received_at, occurred_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5,
               CASE WHEN EXISTS (SELECT 1 FROM effects WHERE event_id = ?1 AND status <> 'done')
                    THEN 'retrying' ELSE 'processed' END,
               1, NULL, ?6, ?7, ?8)
       ON CONFLICT (id) DO UPDATE SET
         status = excluded.status, attempts = events.attempts + 1, updated_at = excluded.updated_at,
         last_error = CASE WHEN excluded.status = 'processed' THEN NULL ELSE events.last_error END`,
    ),
    message,
    payload,
    now,
  );
}

/** For the dead-letter consumer: marks the event dead, recording it first if it never was. */
export function recordDeadEvent(
  db: D1Database,
  message: EventMessage,
  payload: string,
  now: string,
): D1PreparedStatement {
  return bindMessage(
    db.prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                           received_at, occurred_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 'dead', 0, 'retries exhausted before the event was recorded', ?6, ?7, ?8)
       ON CONFLICT (id) DO UPDATE SET
         status = 'dead', updated_at = excluded.updated_at,
         last_error = COALESCE(events.last_error, 'retries exhausted')
       WHERE events.status <> 'processed'`,
    ),
    message,
    payload,
    now,
  );
}

function bindMessage(statement: D1PreparedStatement, message: EventMessage, payload: string, now: string) {
  return statement.bind(
    message.id,
    message.provider,
    message.dedupeKey,
    message.type,
    payload,
    message.receivedAt,
    message.occurredAt,
    now,
  );
}

export function setEventOutcome(
  db: D1Database,
  id: string,
  outcome: { status: EventStatus; lastError: string | null },
  now: string,
): Promise<D1Result> {
  return (
    db
      // A consumer that lost a race to a twin must not turn the winner's `processed` back.
      .prepare(
        "UPDATE events SET status = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1 AND NOT (status = 'processed' AND ?2 = 'retrying')",
      )
      .bind(id, outcome.status, outcome.lastError, now)
      .run()
  );
}

export function getEvent(db: D1Database, id: string): Promise<EventRow | null> {
  return db.prepare("SELECT * FROM events WHERE id = ?").bind(id).first<EventRow>();
}

export function loadBlob(db: D1Database, id: string): Promise<string | null> {
  return db.prepare("SELECT payload FROM payload_blobs WHERE id = ?").bind(id).first<string>("payload");
}

export function deleteBlob(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("DELETE FROM payload_blobs WHERE id = ?").bind(id);
}

// ─── The stuck-event sweep (src/maintenance/sweep.ts) ────────────────────────────────────

/**
 * Retrying events nothing has touched since `before`, oldest first. `status = 'retrying'`
 * is a literal so that the partial index events_retrying_by_updated serves the query.
 */
export async function stuckRetryingEvents(db: D1Database, before: string, limit: number): Promise<EventRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM events WHERE status = 'retrying' AND updated_at < ?1 ORDER BY updated_at, id LIMIT ?2")
    .bind(before, limit)
    .all<EventRow>();
  return results;
}

/**
 * Claims a stuck event for one sweep (one row changed), unless a consumer or another sweep
 * touched it since it was read. Moving `updated_at` to now restarts its clock, so the
 * message about to be sent gets a whole retry span before any later sweep looks at it.
 */
export function claimStuckEvent(db: D1Database, id: string, seenUpdatedAt: string, now: string): D1PreparedStatement {
  return db
    .prepare("UPDATE events SET updated_at = ?3 WHERE id = ?1 AND status = 'retrying' AND updated_at = ?2")
    .bind(id, seenUpdatedAt, now);
}

/** Undoes a claim whose message the queue refused, so the next sweep tries again. */
export function releaseStuckEvent(db: D1Database, id: string, claimedAt: string, previous: string): Promise<D1Result> {
  return db
    .prepare("UPDATE events SET updated_at = ?3 WHERE id = ?1 AND status = 'retrying' AND updated_at = ?2")
    .bind(id, claimedAt, previous)
    .run();
}
