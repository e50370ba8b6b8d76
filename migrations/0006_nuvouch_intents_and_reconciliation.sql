-- Nuvouch integrator side, contract v2 (§5, §9):
--  * an approval Nuvouch refused to create is `failed`, with the reason in `error`;
--  * `request_sha256` fingerprints the validated create request, so the same
--    externalRequestId with another body is an idempotency conflict;
--  * `last_reconciled_at` is when the scheduled reconciliation last asked Nuvouch about a
--    pending approval;
--  * one intent row per (subject, context) pair while a connection session is being created.
--
-- SQLite cannot alter a CHECK constraint, so nuvouch_approvals is rebuilt: create, copy,
-- drop, rename. It has no secondary index to recreate; the partial index below is new.

CREATE TABLE nuvouch_approvals_v6 (
  external_request_id TEXT PRIMARY KEY NOT NULL,
  approval_request_id TEXT,
  subject_id TEXT,
  context_key TEXT,
  status TEXT NOT NULL
    CHECK (status IN ('creating', 'failed', 'pending', 'approved', 'denied', 'expired', 'cancelled')),
  precedence TEXT NOT NULL,
  decided_at TEXT,
  decided_by_event TEXT,
  request TEXT,
  request_sha256 TEXT,
  error TEXT,
  last_reconciled_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO nuvouch_approvals_v6
  (external_request_id, approval_request_id, subject_id, context_key, status, precedence, decided_at,
   decided_by_event, request, created_at, updated_at)
SELECT external_request_id, approval_request_id, subject_id, context_key, status, precedence, decided_at,
       decided_by_event, request, created_at, updated_at
FROM nuvouch_approvals;

DROP TABLE nuvouch_approvals;
ALTER TABLE nuvouch_approvals_v6 RENAME TO nuvouch_approvals;

-- The reconciliation's work list (src/maintenance/reconcile.ts): pending approvals, least
-- recently looked at first. Partial, so decided approvals cost no index rows.
CREATE INDEX nuvouch_approvals_to_reconcile
  ON nuvouch_approvals (COALESCE(last_reconciled_at, created_at), external_request_id)
  WHERE status = 'pending';

-- A connection session being created for a pair: claimed atomically before Nuvouch is
-- called and removed once the session is stored (or the call failed). `lease_until` frees a
-- claim whose holder died mid-call.
CREATE TABLE nuvouch_connection_intents (
  subject_id TEXT NOT NULL,
  context_key TEXT NOT NULL,
  claim_id TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (subject_id, context_key)
) WITHOUT ROWID;

-- The stuck-event sweep (src/maintenance/sweep.ts) reads retrying events by age every five
-- minutes; partial, so processed events (nearly all of them) cost no index rows.
CREATE INDEX events_retrying_by_updated ON events (updated_at, id) WHERE status = 'retrying';
