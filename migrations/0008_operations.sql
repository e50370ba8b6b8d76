-- What an operator needs to see and do (docs/contract.md §7): refused deliveries, effect attempts,
-- an audit list of replays, and alerts waiting to be sent.

-- Refused webhook deliveries, one row per (minute, provider, code, status). Each isolate
-- adds its counts with one upsert per row it holds (src/monitor/rejections.ts), so a flood
-- of forged requests costs a bounded number of writes, not one per request.
CREATE TABLE rejections (
  minute INTEGER NOT NULL,
  provider TEXT NOT NULL,
  code TEXT NOT NULL,
  status INTEGER NOT NULL,
  count INTEGER NOT NULL,
  last_at TEXT NOT NULL,
  last_reason TEXT,
  PRIMARY KEY (minute, provider, code, status)
) WITHOUT ROWID;

-- Every attempt at an effect (or a forward), the last 20 per effect (src/effects/attempts.ts).
-- `attempt` is the effects row's attempt counter, which only ever grows, so a replay adds
-- rows and never overwrites the trace of the failures before it.
CREATE TABLE effect_attempts (
  effect_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('done', 'failed', 'timeout')),
  error TEXT,
  duration_ms INTEGER NOT NULL,
  http_status INTEGER,
  response_body TEXT,
  target TEXT,
  next_retry_at TEXT,
  PRIMARY KEY (effect_id, attempt)
) WITHOUT ROWID;

-- Operator actions, newest first by id (src/admin/audit.ts).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('replay', 'bulk_replay')),
  target TEXT NOT NULL,
  count INTEGER NOT NULL,
  filters TEXT
);

-- Notices of events that became dead or quarantined, until ALERT_URL has answered 2xx
-- (src/alerts/outbox.ts). AUTOINCREMENT: ids never go back, so "delete every id up to the
-- last one sent" can never remove a notice that arrived while the alert was in flight.
CREATE TABLE alerts_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (event_id, status)
);

-- One row: when the next alert may be sent. Whoever moves it forward sends; everyone else
-- leaves the outbox alone, so alerts go out at most once per interval whatever the load.
CREATE TABLE alert_sender (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_send_at INTEGER NOT NULL
);
