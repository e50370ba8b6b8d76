import { effectsOwedSql } from "../effects/ledger";

import type { EventStatus } from "../statuses";

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
  body_sha256: string | null;
  conflict_count: number;
  last_conflict_sha256: string | null;
  last_conflict_at: string | null;
  raw_body: ArrayBuffer | null;
  content_type: string | null;
}

/** An event as ingest named it: what its row is recorded with (a queue message is one). */
export interface RecordedEvent {
  id: string;
  provider: string;
  dedupeKey: string;
  type: string;
  receivedAt: string;
  occurredAt: string | null;
}

/** What a dedupe check needs: whether the event exists, and which body it was recorded with. */
export interface EventIdentity {
  status: EventStatus;
  bodySha256: string | null;
}

export function findEventIdentity(db: Pick<D1Database, "prepare">, id: string): Promise<EventIdentity | null> {
  return db
    .prepare("SELECT status, body_sha256 AS bodySha256 FROM events WHERE id = ?")
    .bind(id)
    .first<EventIdentity>();
}

/**
 * The conflict rule (docs/contract.md §3): a body other than the one the event was recorded with. A row from
 * before body hashes were kept (NULL) matches any body: nothing is known against it.
 */
export function isConflict(recorded: EventIdentity | null, bodySha256: string): boolean {
  return recorded?.bodySha256 != null && recorded.bodySha256 !== bodySha256;
}

/**
 * True, inside a D1 batch, while no event under this id was recorded with another body. Every write
 * an event drives (state rules, effects) is gated on it, so of two bodies under one key only the one
 * recorded first is ever applied, whatever the batching: D1 runs batches one at a time.
 */
export function bodyIsTheEvent(id: string, bodySha256: string) {
  return {
    sql: "NOT EXISTS (SELECT 1 FROM events WHERE id = ? AND body_sha256 <> ?)",
    params: [id, bodySha256],
  };
}

/** Counts a conflicting delivery on the event; changes nothing (and costs no write) otherwise. */
export function noteConflict(db: D1Database, id: string, bodySha256: string, now: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET conflict_count = conflict_count + 1, last_conflict_sha256 = ?2, last_conflict_at = ?3
       WHERE id = ?1 AND body_sha256 <> ?2`,
    )
    .bind(id, bodySha256, now);
}

/**
 * Records the event (or counts another attempt at it). Its status is decided in the same
 * statement: `processed` unless an effect of this event is still owed. Placed after the
 * effect inserts in the batch, so it sees them. A row recorded with another body is left alone
 * (the conflict was counted by `noteConflict`); a quarantined row that a replay could now parse
 * takes the parsed payload and type.
 */
export function recordEvent(
  db: D1Database,
  message: RecordedEvent,
  payload: string,
  bodySha256: string,
  now: string,
): D1PreparedStatement {
  return bindMessage(
    db.prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                           received_at, occurred_at, updated_at, body_sha256)
       VALUES (?1, ?2, ?3, ?4, ?5,
               CASE WHEN ${effectsOwedSql("?1")} THEN 'retrying' ELSE 'processed' END,
               1, NULL, ?6, ?7, ?8, ?9)
       ON CONFLICT (id) DO UPDATE SET
         status = excluded.status, attempts = events.attempts + 1, updated_at = excluded.updated_at,
         last_error = CASE WHEN excluded.status = 'processed' THEN NULL ELSE events.last_error END,
         body_sha256 = COALESCE(events.body_sha256, excluded.body_sha256),
         type = CASE WHEN events.status = 'quarantined' THEN excluded.type ELSE events.type END,
         payload = CASE WHEN events.status = 'quarantined' THEN excluded.payload ELSE events.payload END,
         occurred_at = CASE WHEN events.status = 'quarantined' THEN excluded.occurred_at ELSE events.occurred_at END,
         raw_body = NULL, content_type = NULL
       WHERE events.body_sha256 IS NULL OR events.body_sha256 = excluded.body_sha256`,
    ),
    message,
    payload,
    now,
    bodySha256,
  );
}

/** For the dead-letter consumer: marks the event dead, recording it first if it never was. */
export function recordDeadEvent(
  db: D1Database,
  message: RecordedEvent,
  payload: string,
  bodySha256: string,
  now: string,
): D1PreparedStatement {
  return bindMessage(
    db.prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error,
                           received_at, occurred_at, updated_at, body_sha256)
       VALUES (?1, ?2, ?3, ?4, ?5, 'dead', 0, 'retries exhausted before the event was recorded', ?6, ?7, ?8, ?9)
       ON CONFLICT (id) DO UPDATE SET
         status = 'dead', updated_at = excluded.updated_at,
         last_error = COALESCE(events.last_error, 'retries exhausted')
       WHERE events.status NOT IN ('processed', 'quarantined')
         AND (events.body_sha256 IS NULL OR events.body_sha256 = excluded.body_sha256)`,
    ),
    message,
    payload,
    now,
    bodySha256,
  );
}

function bindMessage(
  statement: D1PreparedStatement,
  message: RecordedEvent,
  payload: string,
  now: string,
  bodySha256: string,
) {
  return statement.bind(
    message.id,
    message.provider,
    message.dedupeKey,
    message.type,
    payload,
    message.receivedAt,
    message.occurredAt,
    now,
    bodySha256,
  );
}

/** A verified delivery that does not parse (docs/contract.md §3), as it arrived. */
export interface QuarantinedDelivery {
  id: string;
  provider: string;
  dedupeKey: string;
  type: string;
  receivedAt: string;
  bodySha256: string;
  body: Uint8Array;
  contentType: string | null;
  reason: string;
  /** The body as text when it is JSON (what the event API shows as `payload`), else null. */
  payloadJson: string | null;
}

/**
 * Keeps a quarantined delivery. Its retry (same body) changes nothing; another body under the same
 * key is counted as a conflict. `RETURNING` tells the caller which of the three it was.
 */
export function recordQuarantined(db: D1Database, delivery: QuarantinedDelivery): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO events (id, provider, dedupe_key, type, payload, status, attempts, last_error, received_at,
                           occurred_at, updated_at, body_sha256, raw_body, content_type)
       VALUES (?1, ?2, ?3, ?4, ?5, 'quarantined', 0, ?6, ?7, NULL, ?7, ?8, ?9, ?10)
       ON CONFLICT (id) DO UPDATE SET
         conflict_count = events.conflict_count + 1, last_conflict_sha256 = excluded.body_sha256,
         last_conflict_at = excluded.updated_at
       WHERE events.body_sha256 <> excluded.body_sha256
       RETURNING body_sha256 AS bodySha256, conflict_count AS conflicts`,
    )
    .bind(
      delivery.id,
      delivery.provider,
      delivery.dedupeKey,
      delivery.type,
      delivery.payloadJson ?? "null",
      delivery.reason,
      delivery.receivedAt,
      delivery.bodySha256,
      delivery.body,
      delivery.contentType,
    );
}

/** A replay that still cannot parse the quarantined bytes: the reasons of the code deployed now. */
export function requarantine(db: D1Database, id: string, reason: string, now: string): D1PreparedStatement {
  return db
    .prepare("UPDATE events SET last_error = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'quarantined'")
    .bind(id, reason, now);
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

/**
 * SQL true while the event `id` (an SQL expression) has `status` (another): for a statement of
 * another table that must only take effect for an event in that status (an alert notice).
 */
export function eventInStatusSql(id: string, status: string): string {
  return `EXISTS (SELECT 1 FROM events WHERE id = ${id} AND status = ${status})`;
}

/** SQL for the `last_error` of the event `id` (an SQL expression), NULL when it has none. */
export function eventLastErrorSql(id: string): string {
  return `(SELECT last_error FROM events WHERE id = ${id})`;
}

/** For the daily purge: processed events received before `before` (their dedupe keys go with them). */
export function purgeProcessedEvents(db: D1Database, before: string): D1PreparedStatement {
  return db.prepare("DELETE FROM events WHERE status = 'processed' AND received_at < ?").bind(before);
}

// ─── Payloads too large for a queue message, parked in D1 (src/queue/enqueue.ts) ───────────

export function parkPayload(db: D1Database, ref: string, payload: string, nowMs: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO payload_blobs (id, payload, created_at) VALUES (?1, ?2, ?3)")
    .bind(ref, payload, nowMs);
}

export function loadBlob(db: D1Database, id: string): Promise<string | null> {
  return db.prepare("SELECT payload FROM payload_blobs WHERE id = ?").bind(id).first<string>("payload");
}

export function deleteBlob(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("DELETE FROM payload_blobs WHERE id = ?").bind(id);
}

/** For the daily purge: parked payloads written before `beforeMs`. */
export function purgeBlobs(db: D1Database, beforeMs: number): D1PreparedStatement {
  return db.prepare("DELETE FROM payload_blobs WHERE created_at < ?").bind(beforeMs);
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
