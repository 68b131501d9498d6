-- Issue 13: an administrator can disable a user.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
CREATE INDEX users_admin_index ON users (level) WHERE level >= 30 AND disabled_at IS NULL;
CREATE INDEX events_kind_at_index ON events (kind, at);
