-- The durable event log. `id` is derived from (provider, dedupe_key) by ingest
-- (gw_ + SHA-256 prefix), so this primary key IS the unique key on (provider, dedupe_key):
-- one index instead of two, and every D1 index row written is billed.
CREATE TABLE events (
  id TEXT PRIMARY KEY NOT NULL,
  provider TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('processed', 'retrying', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  received_at TEXT NOT NULL,
  occurred_at TEXT,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Newest-first listing with keyset pagination on (received_at, id).
CREATE INDEX events_by_received ON events (received_at, id);
