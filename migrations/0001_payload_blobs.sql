-- Payloads too large for one queue message wait here until the consumer records them.
CREATE TABLE payload_blobs (
  id TEXT PRIMARY KEY,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
