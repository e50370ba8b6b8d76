import type { SqlCondition } from "../../sql";
import type { ConnectionSession } from "./api-schemas";
import { type ApprovalState, approvalPrecedence, type ConnectionState, connectionPrecedence } from "./state";

// All the SQL on the Nuvouch tables (nuvouch_connections, nuvouch_approvals,
// nuvouch_connection_intents). First the state rules of callbacks: each upsert replaces a row only with a strictly
// higher precedence (see ../precedence.ts), inside the consumer's D1 batch, and only where
// `applies` holds (the delivery's body is the event's: a conflicting body writes nothing).
// `INSERT … SELECT … WHERE` carries the gate: no row selected, no insert and no update.

export function upsertConnection(
  db: D1Database,
  state: ConnectionState,
  now: string,
  applies: SqlCondition,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO nuvouch_connections
         (connection_session_id, subject_id, context_key, status, precedence, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 WHERE ${applies.sql}
       ON CONFLICT (connection_session_id) DO UPDATE SET
         status = excluded.status, precedence = excluded.precedence, updated_at = excluded.updated_at
       WHERE excluded.precedence > nuvouch_connections.precedence`,
    )
    .bind(
      state.connectionSessionId,
      state.subjectId,
      state.contextKey,
      state.status,
      state.precedence,
      now,
      ...applies.params,
    );
}

export function upsertApproval(
  db: D1Database,
  state: ApprovalState,
  now: string,
  applies: SqlCondition,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO nuvouch_approvals
         (external_request_id, approval_request_id, subject_id, context_key, status, precedence,
          decided_at, decided_by_event, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 WHERE ${applies.sql}
       ON CONFLICT (external_request_id) DO UPDATE SET
         approval_request_id = COALESCE(nuvouch_approvals.approval_request_id, excluded.approval_request_id),
         subject_id = COALESCE(nuvouch_approvals.subject_id, excluded.subject_id),
         context_key = COALESCE(nuvouch_approvals.context_key, excluded.context_key),
         status = excluded.status, precedence = excluded.precedence,
         decided_at = excluded.decided_at, decided_by_event = excluded.decided_by_event,
         updated_at = excluded.updated_at
       WHERE excluded.precedence > nuvouch_approvals.precedence`,
    )
    .bind(
      state.externalRequestId,
      state.approvalRequestId,
      state.subjectId,
      state.contextKey,
      state.status,
      state.precedence,
      state.decidedAt,
      state.decidedByEvent,
      now,
      ...applies.params,
    );
}

/**
 * True after the batch iff this event decided the approval, and decided it as this callback says. The
 * status matters for an event recorded before bodies were hashed (migration 0005): there another body
 * under the same id passes the conflict gate, and must still not run the other decision's effect.
 */
export function decidedByCondition(externalRequestId: string, eventId: string, status: string) {
  return {
    sql: `EXISTS (SELECT 1 FROM nuvouch_approvals
                  WHERE external_request_id = ? AND decided_by_event = ? AND status = ?)`,
    params: [externalRequestId, eventId, status],
  };
}

// Then the integrator's side of the Nuvouch flow (sessions and approval requests this
// gateway creates, the intents that guard their creation, and the reconciliation's
// bookkeeping). Writes respect the same precedences as callbacks, because a callback can
// overtake the API answer that should come before it.

export interface ConnectionRow {
  connection_session_id: string;
  subject_id: string;
  context_key: string;
  status: string;
  short_code: string | null;
  qr_code_url: string | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApprovalRow {
  external_request_id: string;
  approval_request_id: string | null;
  subject_id: string | null;
  context_key: string | null;
  status: string;
  decided_at: string | null;
  /** The gateway event of the callback that decided it: the one whose effects are the decision's. */
  decided_by_event: string | null;
  request: string | null;
  request_sha256: string | null;
  /** JSON of an ApprovalFailure while `failed`. */
  error: string | null;
  last_reconciled_at: string | null;
  created_at: string;
  updated_at: string;
}

export async function connectionsOf(db: D1Database, subjectId: string, contextKey: string): Promise<ConnectionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM nuvouch_connections WHERE subject_id = ? AND context_key = ?
       ORDER BY (status = 'accepted') DESC, created_at DESC, connection_session_id DESC`,
    )
    .bind(subjectId, contextKey)
    .all<ConnectionRow>();
  return results;
}

/** Accepted, or pending and not yet past its expiry: what a second "connect" returns. */
export function isLive(row: ConnectionRow, nowMs: number): boolean {
  if (row.status === "accepted") return true;
  return row.status === "pending" && (row.expires_at === null || Date.parse(row.expires_at) > nowMs);
}

/**
 * Stores the session Nuvouch created, unless Nuvouch handed out an id this gateway already
 * holds for another subject or context: that row is left alone (0 rows changed), and the
 * caller reports Nuvouch's answer as unusable.
 */
export function saveConnectionSession(
  db: D1Database,
  input: { subjectId: string; contextKey: string },
  session: ConnectionSession,
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO nuvouch_connections
         (connection_session_id, subject_id, context_key, status, precedence, short_code, qr_code_url, expires_at,
          created_at, updated_at)
       VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?8)
       ON CONFLICT (connection_session_id) DO UPDATE SET
         short_code = excluded.short_code, qr_code_url = excluded.qr_code_url, expires_at = excluded.expires_at
       WHERE nuvouch_connections.subject_id = excluded.subject_id
         AND nuvouch_connections.context_key = excluded.context_key`,
    )
    .bind(
      session.id,
      input.subjectId,
      input.contextKey,
      connectionPrecedence("pending"),
      session.shortCode,
      session.qrCodeUrl,
      session.expiresAt,
      now,
    );
}

/**
 * Claims the right to create the pair's next session: true for exactly one of any number of
 * concurrent callers (D1 applies writes one at a time), and again once a holder's lease ran
 * out (it died mid-call).
 */
export async function claimConnectionIntent(
  db: D1Database,
  pair: { subjectId: string; contextKey: string },
  claimId: string,
  options: { nowMs: number; leaseMs: number },
): Promise<boolean> {
  const claimed = await db
    .prepare(
      `INSERT INTO nuvouch_connection_intents (subject_id, context_key, claim_id, lease_until, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (subject_id, context_key) DO UPDATE SET
         claim_id = excluded.claim_id, lease_until = excluded.lease_until, created_at = excluded.created_at
       WHERE nuvouch_connection_intents.lease_until < ?6
       RETURNING claim_id`,
    )
    .bind(
      pair.subjectId,
      pair.contextKey,
      claimId,
      options.nowMs + options.leaseMs,
      new Date(options.nowMs).toISOString(),
      options.nowMs,
    )
    .first<string>("claim_id");
  return claimed === claimId;
}

/** Gives the claim up; only its holder's claim id removes it. */
export function releaseConnectionIntent(
  db: D1Database,
  pair: { subjectId: string; contextKey: string },
  claimId: string,
): D1PreparedStatement {
  return db
    .prepare("DELETE FROM nuvouch_connection_intents WHERE subject_id = ?1 AND context_key = ?2 AND claim_id = ?3")
    .bind(pair.subjectId, pair.contextKey, claimId);
}

export function findApproval(db: D1Database, externalRequestId: string): Promise<ApprovalRow | null> {
  return db
    .prepare("SELECT * FROM nuvouch_approvals WHERE external_request_id = ?")
    .bind(externalRequestId)
    .first<ApprovalRow>();
}

/**
 * The intent, written before calling Nuvouch, and the row as it stands afterwards. A new
 * externalRequestId becomes `creating`; a `failed` one with the same fingerprint becomes
 * `creating` again (a retry); a row without a fingerprint (left by a crash, or created by a
 * callback) adopts this one. A row with another fingerprint is left as it is: the caller
 * sees it and answers idempotency_conflict.
 */
export async function claimApprovalIntent(
  db: D1Database,
  input: {
    externalRequestId: string;
    subjectId: string;
    contextKey: string;
    request: unknown;
    requestSha256: string;
  },
  now: string,
): Promise<ApprovalRow> {
  const [, read] = await db.batch([
    db
      .prepare(
        `INSERT INTO nuvouch_approvals
           (external_request_id, subject_id, context_key, status, precedence, request, request_sha256,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, 'creating', ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (external_request_id) DO UPDATE SET
           request = excluded.request, request_sha256 = excluded.request_sha256,
           subject_id = COALESCE(nuvouch_approvals.subject_id, excluded.subject_id),
           context_key = COALESCE(nuvouch_approvals.context_key, excluded.context_key),
           status = CASE WHEN nuvouch_approvals.status = 'failed' THEN 'creating' ELSE nuvouch_approvals.status END,
           error = CASE WHEN nuvouch_approvals.status = 'failed' THEN NULL ELSE nuvouch_approvals.error END,
           updated_at = excluded.updated_at
         WHERE nuvouch_approvals.request_sha256 IS NULL
            OR nuvouch_approvals.request_sha256 = excluded.request_sha256`,
      )
      .bind(
        input.externalRequestId,
        input.subjectId,
        input.contextKey,
        approvalPrecedence("creating"),
        JSON.stringify(input.request),
        input.requestSha256,
        now,
      ),
    db.prepare("SELECT * FROM nuvouch_approvals WHERE external_request_id = ?").bind(input.externalRequestId),
  ]);
  return read?.results[0] as ApprovalRow;
}

/** Nuvouch's answer: pending unless a callback already decided the approval. */
export function recordApprovalCreated(
  db: D1Database,
  externalRequestId: string,
  approvalRequestId: string,
  now: string,
): Promise<D1Result> {
  const pending = approvalPrecedence("pending");
  return db
    .prepare(
      `UPDATE nuvouch_approvals SET
         approval_request_id = COALESCE(approval_request_id, ?2),
         status = CASE WHEN precedence < ?3 THEN 'pending' ELSE status END,
         precedence = MAX(precedence, ?3),
         error = NULL,
         updated_at = ?4
       WHERE external_request_id = ?1`,
    )
    .bind(externalRequestId, approvalRequestId, pending, now)
    .run();
}

export interface ApprovalFailure {
  /** Nuvouch's error code, e.g. VALIDATION_ERROR. */
  code: string;
  /** Nuvouch's HTTP status. */
  status: number;
  message: string;
}

/**
 * Nuvouch refused to create it: `failed`, with the reason. Only a `creating` row turns
 * failed; one that a callback or a concurrent success has moved on stays as it is.
 * `failed` keeps the intent's precedence, so any later answer or callback replaces it.
 */
export function recordApprovalFailed(
  db: D1Database,
  externalRequestId: string,
  failure: ApprovalFailure,
  now: string,
): Promise<D1Result> {
  return db
    .prepare(
      `UPDATE nuvouch_approvals SET status = 'failed', error = ?2, updated_at = ?3
       WHERE external_request_id = ?1 AND status = 'creating'`,
    )
    .bind(externalRequestId, JSON.stringify(failure), now)
    .run();
}

export function approvalFailure(row: ApprovalRow): ApprovalFailure | null {
  if (row.status !== "failed" || !row.error) return null;
  try {
    return JSON.parse(row.error) as ApprovalFailure;
  } catch {
    return { code: "unknown", status: 0, message: row.error };
  }
}

/**
 * Pending approvals due for a lookup with Nuvouch: pending at least since `dueBefore` and not
 * looked up since then, least recently looked at first, so a run never starves the rest
 * behind approvals Nuvouch keeps pending.
 */
export async function approvalsToReconcile(db: D1Database, dueBefore: string, limit: number): Promise<ApprovalRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM nuvouch_approvals
       WHERE status = 'pending' AND COALESCE(last_reconciled_at, created_at) <= ?1
       ORDER BY COALESCE(last_reconciled_at, created_at), external_request_id
       LIMIT ?2`,
    )
    .bind(dueBefore, limit)
    .all<ApprovalRow>();
  return results;
}

export function markReconciled(db: D1Database, externalRequestId: string, now: string): D1PreparedStatement {
  return db
    .prepare("UPDATE nuvouch_approvals SET last_reconciled_at = ?2 WHERE external_request_id = ?1")
    .bind(externalRequestId, now);
}
