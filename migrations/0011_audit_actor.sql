-- Who did an operator action (src/admin/audit.ts): the API has one bearer token, so what
-- identifies the caller is kept instead, as JSON {ip, userAgent, operator?}, bounded. NULL
-- for actions recorded before this migration.
ALTER TABLE audit_log ADD COLUMN actor TEXT;
