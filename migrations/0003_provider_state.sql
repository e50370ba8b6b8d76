-- Business state driven by verified callbacks. Each row carries the `precedence` of the
-- callback that set it; an upsert only replaces a row with a callback of higher
-- precedence, which makes every rule idempotent and independent of delivery order
-- (see src/providers/*/state.ts). Tables keyed by text are WITHOUT ROWID: a rowid table
-- would keep a second B-tree for the key, and D1 bills every index row written.

-- One row per Nuvouch connection session; a (subject, context) pair's connection is its
-- live session.
CREATE TABLE nuvouch_connections (
  connection_session_id TEXT PRIMARY KEY NOT NULL,
  subject_id TEXT NOT NULL,
  context_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
  precedence TEXT NOT NULL,
  short_code TEXT,
  qr_code_url TEXT,
  expires_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX nuvouch_connections_by_subject ON nuvouch_connections (subject_id, context_key, created_at);

-- One row per externalRequestId. `creating` is the intent written before calling Nuvouch,
-- so a crash between the call and its result is recovered by the next identical request.
CREATE TABLE nuvouch_approvals (
  external_request_id TEXT PRIMARY KEY NOT NULL,
  approval_request_id TEXT,
  subject_id TEXT,
  context_key TEXT,
  status TEXT NOT NULL CHECK (status IN ('creating', 'pending', 'approved', 'denied', 'expired', 'cancelled')),
  precedence TEXT NOT NULL,
  decided_at TEXT,
  decided_by_event TEXT,
  request TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- One row per Nuvei transaction (transactionId, or merchantTransactionId when Nuvei omits it).
CREATE TABLE nuvei_transactions (
  transaction_id TEXT PRIMARY KEY NOT NULL,
  merchant_transaction_id TEXT,
  status TEXT NOT NULL,
  precedence TEXT NOT NULL,
  amount TEXT,
  currency TEXT,
  transaction_type TEXT,
  status_time TEXT,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
