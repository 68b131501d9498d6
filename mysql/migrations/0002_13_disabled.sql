-- Issue 13: an administrator can disable a user.
--
-- MariaDB has no partial index (PostgreSQL and SQLite index only the enabled
-- administrators): users_admin_index leads with disabled_at, so the last
-- administrator count (disabled_at IS NULL AND level >= 30) is an equality
-- and a range on one index that covers it.
--
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS, so the column and its index are
-- one statement (one atomic DDL): a run that fails leaves users as it was.
-- The 'admins' row of store_locks serialises the writes that may remove an
-- administrator (see admin.go).
INSERT IGNORE INTO store_locks (name) VALUES ('admins');
ALTER TABLE users
	ADD COLUMN disabled_at DATETIME(3) NULL,
	ADD KEY users_admin_index (disabled_at, level);
ALTER TABLE events ADD KEY events_kind_at_index (kind, at);
