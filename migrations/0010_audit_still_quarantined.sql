-- A bulk replay of quarantined events records how many of them were re-read and stayed
-- quarantined (src/admin/audit.ts); NULL for every other action.
ALTER TABLE audit_log ADD COLUMN still_quarantined INTEGER;
