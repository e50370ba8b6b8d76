-- The effects ledger: one row per business effect, keyed so that an effect is scheduled at
-- most once (e.g. one per approval decision), and a `done` row is never run again.
CREATE TABLE effects (
  id TEXT PRIMARY KEY NOT NULL,
  event_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  lease_until INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX effects_by_event ON effects (event_id);
