import type { SqlCondition } from "../../sql";
import type { ApprovalState, ConnectionState } from "./state";

// SQL for the Nuvouch state rules: each upsert replaces a row only with a strictly
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
