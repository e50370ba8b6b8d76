import type { ConnectionSession } from "./api-schemas";
import { approvalPrecedence, connectionPrecedence } from "./state";

// SQL for the integrator's side of the Nuvouch flow (sessions and approval requests this
// gateway creates). Writes respect the same precedences as callbacks, because a callback
// can overtake the API answer that should come before it.

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
  request: string | null;
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

export function saveConnectionSession(
  db: D1Database,
  input: { subjectId: string; contextKey: string },
  session: ConnectionSession,
  now: string,
): Promise<D1Result> {
  return db
    .prepare(
      `INSERT INTO nuvouch_connections
         (connection_session_id, subject_id, context_key, status, precedence, short_code, qr_code_url, expires_at,
          created_at, updated_at)
       VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?8)
       ON CONFLICT (connection_session_id) DO UPDATE SET
         short_code = excluded.short_code, qr_code_url = excluded.qr_code_url, expires_at = excluded.expires_at`,
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
    )
    .run();
}

export function findApproval(db: D1Database, externalRequestId: string): Promise<ApprovalRow | null> {
  return db
    .prepare("SELECT * FROM nuvouch_approvals WHERE external_request_id = ?")
    .bind(externalRequestId)
    .first<ApprovalRow>();
}

/** The intent, written before calling Nuvouch; a no-op when a row already exists. */
export function writeApprovalIntent(
  db: D1Database,
  input: { externalRequestId: string; subjectId: string; contextKey: string; request: unknown },
  now: string,
): Promise<D1Result> {
  return db
    .prepare(
      `INSERT INTO nuvouch_approvals
         (external_request_id, subject_id, context_key, status, precedence, request, created_at, updated_at)
       VALUES (?1, ?2, ?3, 'creating', ?4, ?5, ?6, ?6)
       ON CONFLICT (external_request_id) DO NOTHING`,
    )
    .bind(
      input.externalRequestId,
      input.subjectId,
      input.contextKey,
      approvalPrecedence("creating"),
      JSON.stringify(input.request),
      now,
    )
    .run();
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
         updated_at = ?4
       WHERE external_request_id = ?1`,
    )
    .bind(externalRequestId, approvalRequestId, pending, now)
    .run();
}

/** The approval's decision effect from the ledger (one per decision; see the consumer). */
export async function approvalEffect(db: D1Database, externalRequestId: string) {
  const prefix = `approval:${externalRequestId}:`;
  return db
    .prepare("SELECT status, attempts FROM effects WHERE substr(id, 1, ?1) = ?2 ORDER BY created_at LIMIT 1")
    .bind(prefix.length, prefix)
    .first<{ status: string; attempts: number }>();
}
