-- Contract v2: the first body recorded under (provider, dedupe key) is the event, and a later body under the
-- same key is a conflict, counted here and never applied; a verified delivery that does not parse is kept as
-- `quarantined`, with its exact bytes, until a replay re-parses it. SQLite cannot change a CHECK in place,
-- so the table is rebuilt (D1 runs a migration file as one transaction).
CREATE TABLE events_v2 (
  id TEXT PRIMARY KEY NOT NULL,
  provider TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('processed', 'retrying', 'dead', 'quarantined')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  received_at TEXT NOT NULL,
  occurred_at TEXT,
  updated_at TEXT NOT NULL,
  -- Lowercase hex SHA-256 of the delivered bytes; NULL for rows recorded before this migration, which
  -- are then taken to match any body (nothing is known against them).
  body_sha256 TEXT,
  conflict_count INTEGER NOT NULL DEFAULT 0,
  last_conflict_sha256 TEXT,
  last_conflict_at TEXT,
  -- Only for quarantined deliveries: the exact bytes and their media type, for a replay to re-parse.
  raw_body BLOB,
  content_type TEXT
) WITHOUT ROWID;

INSERT INTO events_v2 (id, provider, dedupe_key, type, payload, status, attempts, last_error, received_at,
                       occurred_at, updated_at)
  SELECT id, provider, dedupe_key, type, payload, status, attempts, last_error, received_at, occurred_at, updated_at
  FROM events;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_by_received ON events (received_at, id);
