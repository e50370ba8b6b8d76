/** Every attempt at an effect: the history an operator reads in `GET /api/events/:id`. */

import type { AttemptOutcome } from "../statuses";
import { effectIdsOfEventSql, failedEffectsLatestAttemptSql } from "./ledger";

/** What a forward learned about its target; other effects leave it empty. */
export interface AttemptDetails {
  target?: string;
  httpStatus?: number;
  responseBody?: string;
}

export interface AttemptRecord extends AttemptDetails {
  effectId: string;
  /** The effects row's attempt counter: it only grows, so replays append. */
  attempt: number;
  at: string;
  outcome: AttemptOutcome;
  error?: string;
  durationMs: number;
}

export const ATTEMPTS_KEPT = 20;

/**
 * The attempt's row, and, once there can be more than 20, the prune of the oldest beyond
 * them: statements for the batch that settles the effect, so the history and the ledger
 * never disagree.
 */
export function recordAttempt(db: D1Database, record: AttemptRecord): D1PreparedStatement[] {
  const insert = db
    .prepare(
      `INSERT INTO effect_attempts (effect_id, attempt, at, outcome, error, duration_ms, http_status, response_body, target)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (effect_id, attempt) DO NOTHING`,
    )
    .bind(
      record.effectId,
      record.attempt,
      record.at,
      record.outcome,
      record.error ?? null,
      Math.max(0, Math.round(record.durationMs)),
      record.httpStatus ?? null,
      record.responseBody ?? null,
      record.target ?? null,
    );
  // Attempt numbers are unique per effect, so at most 20 rows exist while they are ≤ 20.
  if (record.attempt <= ATTEMPTS_KEPT) return [insert];
  const prune = db
    .prepare(
      `DELETE FROM effect_attempts WHERE effect_id = ?1 AND attempt <= (
         SELECT attempt FROM effect_attempts WHERE effect_id = ?1 ORDER BY attempt DESC LIMIT 1 OFFSET ?2)`,
    )
    .bind(record.effectId, ATTEMPTS_KEPT);
  return [insert, prune];
}

/**
 * Stamps the retry the queue was asked for on the latest attempt of each of the event's
 * failed effects: the "next retry" the operator sees.
 */
export function noteNextRetry(db: D1Database, eventId: string, retryAtMs: number): Promise<D1Result> {
  return db
    .prepare(
      `UPDATE effect_attempts SET next_retry_at = ?2
       WHERE (effect_id, attempt) IN (${failedEffectsLatestAttemptSql("?1")})`,
    )
    .bind(eventId, new Date(retryAtMs).toISOString())
    .run();
}

export interface AttemptRow {
  effect_id: string;
  attempt: number;
  at: string;
  outcome: AttemptOutcome;
  error: string | null;
  duration_ms: number;
  http_status: number | null;
  response_body: string | null;
  target: string | null;
  next_retry_at: string | null;
}

/** The attempts of every effect of one event, oldest first. */
export function attemptsOfEvent(db: D1Database, eventId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT * FROM effect_attempts WHERE effect_id IN (${effectIdsOfEventSql("?")})
       ORDER BY effect_id, attempt`,
    )
    .bind(eventId);
}

/** One history entry of docs/contract.md §7; absent fields are left out, not null. */
export function toApiAttempt(row: AttemptRow) {
  return {
    at: row.at,
    outcome: row.outcome,
    ...(row.error === null ? {} : { error: row.error }),
    durationMs: row.duration_ms,
    ...(row.http_status === null ? {} : { httpStatus: row.http_status }),
    ...(row.response_body === null ? {} : { responseBody: row.response_body }),
    ...(row.target === null ? {} : { target: row.target }),
  };
}
