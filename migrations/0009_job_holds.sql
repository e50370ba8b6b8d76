-- A scheduled job told to wait, one row per job (src/maintenance/holds.ts): reconciliation
-- stores the time a 429's Retry-After allows it back, so the five-minute cron does not ask
-- Nuvouch again before then. A row whose time has passed is removed by the next run.
CREATE TABLE job_holds (
  job TEXT PRIMARY KEY,
  not_before_ms INTEGER NOT NULL,
  reason TEXT
) WITHOUT ROWID;
